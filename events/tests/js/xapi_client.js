// Drives The Eye's LRS with the npm package @xapi/xapi, through its own API only.
// Usage: node xapi_client.js ENDPOINT USER PASSWORD; prints what it read back as JSON.
const XAPI = require("@xapi/xapi");

async function main([endpoint, user, password]) {
  const xapi = new XAPI({ endpoint, auth: XAPI.toBasicAuth(user, password), version: "1.0.3" });
  const actor = { objectType: "Agent", name: "Asha", mbox: "mailto:asha@example.org" };
  const lesson = { objectType: "Activity", id: "https://spoken-tutorial.org/courses/python/lesson-1" };
  const about = (await xapi.getAbout()).data;
  const [completed] = (await xapi.sendStatement({ statement: { actor, verb: XAPI.Verbs.COMPLETED, object: lesson } })).data;
  const [attempted, passed] = (
    await xapi.sendStatements({
      statements: [
        { actor, verb: XAPI.Verbs.INITIALIZED, object: lesson },
        { actor, verb: XAPI.Verbs.PASSED, object: lesson, result: { score: { scaled: 0.9 } } },
      ],
    })
  ).data;
  const read = (await xapi.getStatement({ statementId: passed })).data;
  await xapi.voidStatement({ actor, statementId: attempted });
  const voided = (await xapi.getVoidedStatement({ voidedStatementId: attempted })).data;
  const firstPage = (await xapi.getStatements({ agent: actor, activity: lesson.id, limit: 1, ascending: true })).data;
  const secondPage = (await xapi.getMoreStatements({ more: firstPage.more })).data;
  let missing;
  try {
    await xapi.getStatement({ statementId: attempted });
  } catch (error) {
    missing = error.response ? error.response.status : String(error);
  }
  // The State resource, as a player keeps its bookmark.
  const place = { agent: actor, activityId: lesson.id, stateId: "bookmark" };
  await xapi.setState({ ...place, state: { position: 42 } });
  await xapi.createState({ ...place, state: { speed: 1.5 } }); // POST merges into the stored object
  const bookmark = (await xapi.getState(place)).data;
  const stateIds = (await xapi.getStates({ agent: actor, activityId: lesson.id })).data;
  await xapi.deleteState(place);
  let deleted;
  try {
    await xapi.getState(place);
  } catch (error) {
    deleted = error.response ? error.response.status : String(error);
  }
  return { about, completed, attempted, passed, read, voided, firstPage, secondPage, missing, bookmark, stateIds, deleted };
}

main(process.argv.slice(2)).then(
  (result) => console.log(JSON.stringify(result)),
  (error) => {
    console.error(error.response ? `${error.response.status} ${JSON.stringify(error.response.data)}` : error);
    process.exit(1);
  }
);

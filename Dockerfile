# The Eye's web server and worker image (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, so a code change does not reinstall them.
COPY requirements.txt .
COPY clients/python clients/python
RUN pip install --no-cache-dir -r requirements.txt

COPY . .

# Static files are collected into the image (served by WhiteNoise); no database is needed for it.
RUN python manage.py collectstatic --noinput \
    && useradd --system --home-dir /app --no-create-home the_eye \
    && mkdir -p /app/var/media \
    && chown -R the_eye /app/var

USER the_eye
EXPOSE 8000
CMD ["gunicorn", "the_eye.wsgi", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]

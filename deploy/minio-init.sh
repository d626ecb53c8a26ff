#!/bin/sh
# compose.yaml's one-shot minio-init: the models bucket, and the app's own access key
# allowed only that bucket (the app never holds MinIO's administrator key). Run on
# every `docker compose up`; each step is idempotent.
set -eu
: "${MINIO_ROOT_PASSWORD:?set MINIO_ROOT_PASSWORD in deploy/.env}"
: "${MODELS_STORAGE_S3_SECRET_ACCESS_KEY:?set MODELS_STORAGE_S3_SECRET_ACCESS_KEY in deploy/.env}"
bucket="${MODELS_STORAGE_S3_BUCKET:?set MODELS_STORAGE_S3_BUCKET in deploy/.env}"
key="${MODELS_STORAGE_S3_ACCESS_KEY_ID:?set MODELS_STORAGE_S3_ACCESS_KEY_ID in deploy/.env}"

mc alias set store http://minio:9000 "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >/dev/null
mc mb --ignore-existing "store/$bucket"
# Private: downloads stream through visionA, never from the bucket to a browser.
mc anonymous set none "store/$bucket"

policy=/tmp/visiona-models-policy.json
cat > "$policy" <<POLICY
{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": ["s3:GetBucketLocation", "s3:ListBucket"],
     "Resource": ["arn:aws:s3:::$bucket"]},
    {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
     "Resource": ["arn:aws:s3:::$bucket/*"]}
  ]
}
POLICY
mc admin policy create store visiona-models "$policy"
# Adding an existing user sets its secret again: a changed key in deploy/.env applies.
mc admin user add store "$key" "$MODELS_STORAGE_S3_SECRET_ACCESS_KEY"
# Attaching a policy the user already has is an error to mc; it is what we want.
mc admin policy attach store visiona-models --user "$key" 2>/dev/null \
    || mc admin user info store "$key" | grep -q visiona-models
echo "bucket $bucket ready for $key"

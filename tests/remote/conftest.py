from s3_server import s3_endpoint, s3_root  # noqa: F401  (fixtures)

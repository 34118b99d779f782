"""S3: signing (SigV4, with botocore), self-refreshing credentials, ``s3://`` URLs, listing.

Small modules with one job each; botocore (the ``s3`` extra) is imported only when a request
is signed. ``_sign`` and ``_credentials`` are shared with the dropoff uploads.
"""

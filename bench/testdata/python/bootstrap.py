"""The Python/boto3 equivalent of the floor bootstrap (bench/testdata/floor):
import boto3, build the SageMaker, DynamoDB and SQS clients, then poll the
Lambda runtime API for the first event, as a custom runtime's bootstrap does."""
import os
import urllib.request

import boto3

session = boto3.session.Session()
sagemaker = session.client("sagemaker")
dynamodb = session.client("dynamodb")
sqs = session.client("sqs")

api = os.environ["AWS_LAMBDA_RUNTIME_API"]
with urllib.request.urlopen(f"http://{api}/2018-06-01/runtime/invocation/next") as resp:
    resp.read()

#!/usr/bin/env bash
# The AWS CLI against the local sandbox: start `runbooks sandbox --json`, assume a role with a
# session policy scoped to one customer, query DynamoDB through the gateway, and watch the gateway
# refuse another customer's partition. Needs Node 20+, Java 17+ and the AWS CLI (v1 or v2);
# AWS_CLI=/path/to/aws picks a particular one. Usage: scripts/aws-cli-demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
aws_cli=$(command -v "${AWS_CLI:-aws}") || { echo "aws-cli-demo: the AWS CLI is not installed (Debian: apt-get install awscli)" >&2; exit 2; }
[ -f dist/server/cli/main.js ] || npm run build >/dev/null

work=$(mktemp -d)
node bin/runbooks.js sandbox runbooks --json >"$work/sandbox.json" 2>"$work/sandbox.err" &
sandbox=$!
trap 'kill "$sandbox" 2>/dev/null; wait "$sandbox" 2>/dev/null; rm -rf "$work"' EXIT
until [ -s "$work/sandbox.json" ]; do
  kill -0 "$sandbox" 2>/dev/null || { cat "$work/sandbox.err" >&2; exit 1; }
  sleep 0.2
done

field() { node -e 'const v = JSON.parse(require("fs").readFileSync(0, "utf8")); const p = process.argv[1].split("."); let x = v; for (const k of p) x = x[k]; console.log(x);' "$1"; }
endpoint=$(field endpoint <"$work/sandbox.json")
role=$(field roles.0 <"$work/sandbox.json")

# Only the sandbox's credentials: no profile, config file or session token of the user's own.
unset AWS_PROFILE AWS_SESSION_TOKEN
: >"$work/empty-config"
export AWS_CONFIG_FILE="$work/empty-config" AWS_SHARED_CREDENTIALS_FILE="$work/empty-config" AWS_PAGER=""
export AWS_DEFAULT_REGION=$(field region <"$work/sandbox.json") AWS_REGION=$(field region <"$work/sandbox.json")
export AWS_ACCESS_KEY_ID=$(field accessKeyId <"$work/sandbox.json")
export AWS_SECRET_ACCESS_KEY=$(field secretAccessKey <"$work/sandbox.json")
aws() { "$aws_cli" --endpoint-url "$endpoint" "$@"; }

echo "== sandbox at $endpoint; the base principal is:"
aws sts get-caller-identity --output text

policy='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:Query","Resource":"arn:aws:dynamodb:us-east-1:000000000000:table/Orders","Condition":{"ForAllValues:StringEquals":{"dynamodb:LeadingKeys":["CUSTOMER#C1001"]}}}]}'
echo "== assume $role with a session policy for customer C1001"
aws sts assume-role --role-arn "$role" --role-session-name aws-cli-demo --duration-seconds 900 \
  --policy "$policy" --source-identity demo --output json >"$work/session.json"
export AWS_ACCESS_KEY_ID=$(field Credentials.AccessKeyId <"$work/session.json")
export AWS_SECRET_ACCESS_KEY=$(field Credentials.SecretAccessKey <"$work/session.json")
export AWS_SESSION_TOKEN=$(field Credentials.SessionToken <"$work/session.json")
echo "   session $(field AssumedRoleUser.Arn <"$work/session.json"), expires $(field Credentials.Expiration <"$work/session.json")"

echo "== query C1001's orders through the gateway"
aws dynamodb query --table-name Orders --key-condition-expression 'pk = :pk' \
  --expression-attribute-values '{":pk":{"S":"CUSTOMER#C1001"}}' \
  --projection-expression 'orderId, #s, #t' --expression-attribute-names '{"#s":"status","#t":"total"}' --output text

echo "== the same session asks for C1002's orders (must be refused)"
if aws dynamodb query --table-name Orders --key-condition-expression 'pk = :pk' \
  --expression-attribute-values '{":pk":{"S":"CUSTOMER#C1002"}}' --output text 2>"$work/refused.txt"; then
  echo "aws-cli-demo: the gateway allowed another customer's partition" >&2
  exit 1
fi
sed 's/^/   /' "$work/refused.txt"
echo "== done"

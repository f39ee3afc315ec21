#!/usr/bin/env bash
# npm run demo: make the machine ready (dependencies, Redis, PostgreSQL), build the apps, then run the demo itself.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/ensure-environment.sh
node_modules/.bin/tsx scripts/build.ts
exec node_modules/.bin/tsx scripts/demo.ts "$@"

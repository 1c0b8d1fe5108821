// obslink test tool: evaluates IAM requests with @cloud-copilot/iam-simulate
// (AGPL, a test dependency in .toolchain/, never shipped). Reads a JSON array
// of simulations on stdin, writes one result per simulation on stdout.
import { createRequire } from 'node:module'
import { readFileSync } from 'node:fs'

const require = createRequire(process.argv[2] + '/package.json')
const { runSimulation } = require('@cloud-copilot/iam-simulate')

const input = JSON.parse(readFileSync(0, 'utf8'))
const out = []
for (const c of input) {
  const sim = {
    identityPolicies: c.identityPolicies.map((policy, i) => ({ name: 'identity' + i, policy })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    request: {
      action: c.action,
      principal: c.principal,
      resource: { accountId: c.resourceAccount, resource: c.resource },
      contextVariables: c.context || {}
    }
  }
  if (c.resourcePolicy) sim.resourcePolicy = c.resourcePolicy
  const r = await runSimulation(sim, {})
  if (r.resultType === 'error') {
    out.push({ decision: 'Error', error: JSON.stringify(r.errors) })
  } else {
    out.push({ decision: r.overallResult })
  }
}
process.stdout.write(JSON.stringify(out))

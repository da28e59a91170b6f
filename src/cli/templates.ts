/** The workflows `slipway init` writes; examples/workflows/ holds the same text (a test keeps them equal). */

export const ACTION_REF = 'slipway-dev/slipway@v0';

/** File name → content; `ENVIRONMENTS` in the drift matrix is replaced by the discovered names. */
export function workflowTemplates(environments: readonly string[]): Record<string, string> {
  const matrix = `[${environments.join(', ')}]`;
  return {
    'slipway-plan.yml': `# Pull request → detect the affected environments → one plan job per environment:
# a sticky comment with the diff, and a \`slipway / <env>\` check that blocks bad manifests.
name: slipway plan
on:
  pull_request:
permissions:
  contents: read
jobs:
  detect:
    runs-on: ubuntu-latest
    outputs:
      environments: \${{ steps.detect.outputs.environments }}
    steps:
      - uses: actions/checkout@08eba0b27e820071cde6df949e0beb9ba4906955 # v4.3.0
        with:
          fetch-depth: 0
      - id: detect
        uses: slipway-dev/slipway@v0
  plan:
    needs: detect
    if: needs.detect.outputs.environments != '[]'
    runs-on: ubuntu-latest
    strategy:
      fail-fast: false
      matrix:
        environment: \${{ fromJSON(needs.detect.outputs.environments) }}
    # Pull requests from forks get no secrets: the plan job then validates offline and says so.
    environment: \${{ github.event.pull_request.head.repo.full_name == github.repository && format('{0}-plan', matrix.environment) || '' }}
    permissions:
      contents: read
      pull-requests: write
      checks: write
    steps:
      - uses: actions/checkout@08eba0b27e820071cde6df949e0beb9ba4906955 # v4.3.0
        with:
          fetch-depth: 0
      - uses: slipway-dev/slipway@v0
        with:
          environment: \${{ matrix.environment }}
          kubeconfig: \${{ secrets.KUBECONFIG }}
`,
    'slipway-apply.yml': `# Push to the deploy branch → detect → one apply job per environment, under a GitHub Environment
# (its secrets, and required reviewers for production). One run per environment at a time.
name: slipway apply
on:
  push:
    branches: [main]
permissions:
  contents: read
jobs:
  detect:
    runs-on: ubuntu-latest
    outputs:
      environments: \${{ steps.detect.outputs.environments }}
    steps:
      - uses: actions/checkout@08eba0b27e820071cde6df949e0beb9ba4906955 # v4.3.0
        with:
          fetch-depth: 0
      - id: detect
        uses: slipway-dev/slipway@v0
  apply:
    needs: detect
    if: needs.detect.outputs.environments != '[]'
    runs-on: ubuntu-latest
    strategy:
      fail-fast: false
      matrix:
        environment: \${{ fromJSON(needs.detect.outputs.environments) }}
    environment: \${{ matrix.environment }}
    concurrency:
      group: slipway-\${{ matrix.environment }}
      cancel-in-progress: false
    permissions:
      contents: read
      deployments: write
      statuses: write
    steps:
      - uses: actions/checkout@08eba0b27e820071cde6df949e0beb9ba4906955 # v4.3.0
        with:
          fetch-depth: 0
      - uses: slipway-dev/slipway@v0
        with:
          environment: \${{ matrix.environment }}
          kubeconfig: \${{ secrets.KUBECONFIG }}
`,
    'slipway-resync.yml': `# Manual re-sync: plan, then apply one environment (or all) regardless of what changed.
name: slipway re-sync
on:
  workflow_dispatch:
    inputs:
      environment:
        description: Environment to re-sync (or all)
        required: true
        type: string
      dry-run:
        description: Plan only
        type: boolean
        default: false
permissions:
  contents: read
jobs:
  resync:
    runs-on: ubuntu-latest
    environment: \${{ inputs.environment != 'all' && inputs.environment || '' }}
    concurrency:
      group: slipway-\${{ inputs.environment }}
      cancel-in-progress: false
    permissions:
      contents: read
      deployments: write
      statuses: write
    steps:
      - uses: actions/checkout@08eba0b27e820071cde6df949e0beb9ba4906955 # v4.3.0
        with:
          fetch-depth: 0
      - uses: slipway-dev/slipway@v0
        with:
          environment: \${{ inputs.environment }}
          dry-run: \${{ inputs.dry-run }}
          kubeconfig: \${{ secrets.KUBECONFIG }}
`,
    'slipway-drift.yml': `# Nightly drift detection: one issue per drifted environment, closed when it is back in sync.
name: slipway drift
on:
  schedule:
    - cron: '17 3 * * *'
  workflow_dispatch:
permissions:
  contents: read
jobs:
  drift:
    runs-on: ubuntu-latest
    strategy:
      fail-fast: false
      matrix:
        environment: ${matrix}
    environment: \${{ matrix.environment }}
    permissions:
      contents: read
      issues: write
    steps:
      - uses: actions/checkout@08eba0b27e820071cde6df949e0beb9ba4906955 # v4.3.0
      - uses: slipway-dev/slipway@v0
        with:
          command: drift
          environment: \${{ matrix.environment }}
          kubeconfig: \${{ secrets.KUBECONFIG }}
`,
  };
}

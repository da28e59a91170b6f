/** The workflows `slipway init` writes; examples/workflows/ holds the same text (a test keeps them equal). */

export const ACTION_REF = 'slipway-dev/slipway@v0';

/** File name → content; `ENVIRONMENTS` in the drift matrix is replaced by the discovered names. */
export function workflowTemplates(environments: readonly string[]): Record<string, string> {
  const matrix = `[${environments.join(', ')}]`;
  return {
    'slipway-plan.yml': `# Pull request or merge queue → detect the affected environments → one plan job per environment:
# one comment per environment with its diff, and a \`slipway / <env>\` check that blocks bad
# manifests (require it in branch protection; the merge queue then plans its merge commit too).
name: slipway plan
on:
  pull_request:
  merge_group:
permissions:
  contents: read
jobs:
  detect:
    runs-on: ubuntu-latest
    permissions:
      contents: read
      # Marks the comments of environments a later push no longer touches.
      pull-requests: write
      # Passes the \`slipway / <env>\` check of every environment the change does not touch, so a
      # required check never waits for a plan that does not run.
      checks: write
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
    # A newer push to the pull request cancels its older plan of the same environment.
    concurrency:
      group: slipway-plan-\${{ github.event.pull_request.number || github.event.merge_group.head_ref }}-\${{ matrix.environment }}
      cancel-in-progress: true
    # \`<env>-plan\` holds a read-only KUBECONFIG and has no required reviewers. Pull requests from
    # forks get no secrets: the plan job then validates offline and says so.
    environment: \${{ (github.event_name == 'merge_group' || github.event.pull_request.head.repo.full_name == github.repository) && format('{0}-plan', matrix.environment) || '' }}
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
# (its secrets, and required reviewers for production). One run per environment at a time. The
# result goes into the merged pull request's comment of each environment.
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
      # Finds the merged pull request and adds the apply result to its comment.
      pull-requests: write
    steps:
      - uses: actions/checkout@08eba0b27e820071cde6df949e0beb9ba4906955 # v4.3.0
        with:
          fetch-depth: 0
      - uses: slipway-dev/slipway@v0
        with:
          environment: \${{ matrix.environment }}
          kubeconfig: \${{ secrets.KUBECONFIG }}
`,
    'slipway-resync.yml': `# Manual re-sync of the deploy branch: plan, then apply one environment (or all) regardless of
# what changed. \`all\` fans out through the matrix, so every environment keeps its own secrets and
# protection rules. Start it from the deploy branch: any other ref is refused.
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
  environments:
    runs-on: ubuntu-latest
    outputs:
      environments: \${{ steps.all.outputs.environments }}
    steps:
      - uses: actions/checkout@08eba0b27e820071cde6df949e0beb9ba4906955 # v4.3.0
      - id: all
        uses: slipway-dev/slipway@v0
        with:
          command: detect
  resync:
    needs: environments
    runs-on: ubuntu-latest
    strategy:
      fail-fast: false
      matrix:
        environment: \${{ inputs.environment == 'all' && fromJSON(needs.environments.outputs.environments) || fromJSON(format('["{0}"]', inputs.environment)) }}
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
          dry-run: \${{ inputs.dry-run }}
          kubeconfig: \${{ secrets.KUBECONFIG }}
`,
    'slipway-drift.yml': `# Nightly drift detection: one issue per drifted environment, closed when it is back in sync. It
# runs under \`<env>-plan\` (the plan's read-only KUBECONFIG, no required reviewers), so a nightly
# run never waits for an approval. Run it by hand with \`heal\` to apply Git where drift is found:
# that job runs under the environment itself, so healing production needs the same approval as
# deploying it, and only from the deploy branch.
name: slipway drift
on:
  schedule:
    - cron: '17 3 * * *'
  workflow_dispatch:
    inputs:
      heal:
        description: Apply Git where drift is found
        type: boolean
        default: false
permissions:
  contents: read
jobs:
  drift:
    if: \${{ !inputs.heal }}
    runs-on: ubuntu-latest
    strategy:
      fail-fast: false
      matrix:
        environment: ${matrix}
    environment: \${{ format('{0}-plan', matrix.environment) }}
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
  heal:
    if: \${{ inputs.heal && github.ref == format('refs/heads/{0}', github.event.repository.default_branch) }}
    runs-on: ubuntu-latest
    strategy:
      fail-fast: false
      matrix:
        environment: ${matrix}
    environment: \${{ matrix.environment }}
    concurrency:
      group: slipway-\${{ matrix.environment }}
      cancel-in-progress: false
    permissions:
      contents: read
      issues: write
      deployments: write
      statuses: write
    steps:
      - uses: actions/checkout@08eba0b27e820071cde6df949e0beb9ba4906955 # v4.3.0
        with:
          fetch-depth: 0
      - uses: slipway-dev/slipway@v0
        with:
          command: drift
          heal: true
          environment: \${{ matrix.environment }}
          kubeconfig: \${{ secrets.KUBECONFIG }}
`,
    'slipway-images.yml': `# Image updates: newer tags that the \`image-policies\` in slipway.yaml allow become one pull
# request per environment on the branch slipway/images/<env> (or one for all on slipway/images/all
# with \`image-pull-requests: grouped\` in slipway.yaml), updated on each run and closed when
# nothing is left to bump; the plan workflow then plans it against the cluster like any change.
# No cluster credentials: the pull request is the only write. Pull requests opened with the job's
# own token start no workflows (a GitHub rule), so give a GitHub App or fine-grained token with
# contents and pull-requests write as the secret SLIPWAY_IMAGES_TOKEN for the plan to run on them.
# REGISTRY_CONFIG (optional) holds a docker config.json for private registries; ghcr.io uses the token.
name: slipway images
on:
  schedule:
    - cron: '23 * * * *'
  workflow_dispatch:
permissions:
  contents: read
jobs:
  images:
    runs-on: ubuntu-latest
    concurrency:
      group: slipway-images
      cancel-in-progress: false
    permissions:
      contents: write
      pull-requests: write
      packages: read
    steps:
      - uses: actions/checkout@08eba0b27e820071cde6df949e0beb9ba4906955 # v4.3.0
      - uses: slipway-dev/slipway@v0
        with:
          command: images
          github-token: \${{ secrets.SLIPWAY_IMAGES_TOKEN || github.token }}
          registry-config: \${{ secrets.REGISTRY_CONFIG }}
        env:
          # ghcr.io: the job's own token reads packages (an App or fine-grained token cannot).
          GITHUB_TOKEN: \${{ github.token }}
`,
  };
}

// Pinned versions of the tools behind the local control plane, and where their builds are cached.
//
// Every tool is built from the Go module proxy with the machine's own Go (GOTOOLCHAIN=local), so a
// version is only pinned here once it builds with that Go (go1.26.8): a module whose go.mod asks
// for a newer Go fails fast instead of fetching a toolchain.

import { homedir } from 'node:os';
import { join } from 'node:path';

export interface GoTool {
  /** Directory name under the cache root and the binary's file name. */
  readonly name: string;
  readonly version: string;
  /** `-X` flags that stamp the version into the binary, as the project's own release build does. */
  readonly versionLdflags: readonly string[];
}

export interface GoInstallTool extends GoTool {
  /** Package path given to `go install <package>@<version>`. */
  readonly package: string;
}

/**
 * Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl)
 * built as one binary, `slipway-k8s`, from the Go module in test/cluster/k8s. Its go.mod pins
 * k8s.io/kubernetes at this version and replaces every staging module with v0.<minor>.<patch>.
 */
export const KUBERNETES: GoTool = {
  name: 'k8s',
  version: 'v1.37.2',
  // Without these the binaries call themselves v0.0.0-master: the apiserver's /version (which
  // clients such as helm read as the cluster's version) and kubectl's version skew check use them.
  versionLdflags: ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version'].flatMap((pkg) => [
    `-X ${pkg}.gitVersion=v1.37.2`,
    `-X ${pkg}.gitMajor=1`,
    `-X ${pkg}.gitMinor=37`,
    `-X ${pkg}.gitCommit=`,
    `-X ${pkg}.gitTreeState=clean`,
  ]),
};

/** Fakes nodes and the pod lifecycle (no kubelet, no containers). */
export const KWOK: GoInstallTool = {
  name: 'kwok',
  version: 'v0.8.0',
  package: 'sigs.k8s.io/kwok/cmd/kwok',
  // The module's own default (consts.Version) already names this release.
  versionLdflags: [],
};

/** v5.8.3 needs go 1.27; v5.8.2 is the newest that builds with go1.26.8. */
export const KUSTOMIZE: GoInstallTool = {
  name: 'kustomize',
  version: 'v5.8.2',
  package: 'sigs.k8s.io/kustomize/kustomize/v5',
  // kustomize reads its version from the module's build info.
  versionLdflags: [],
};

/** Helm 4: Helm 3's support window closes in 2026. Both v3.22.0 and v4.3.1 build with go1.26.8. */
export const HELM: GoInstallTool = {
  name: 'helm',
  version: 'v4.3.1',
  package: 'helm.sh/helm/v4/cmd/helm',
  versionLdflags: ['-X helm.sh/helm/v4/internal/version.version=v4.3.1'],
};

/** Test oracle only: encrypts SOPS fixtures and decrypts them for comparison with Slipway's own decryption. */
export const SOPS: GoInstallTool = {
  name: 'sops',
  version: 'v3.13.3',
  package: 'github.com/getsops/sops/v3/cmd/sops',
  versionLdflags: [],
};

/** Test oracle only: makes the age keys SOPS fixtures are encrypted to (the version sops v3.13.3 pins). */
export const AGE_KEYGEN: GoInstallTool = {
  name: 'age',
  version: 'v1.3.1',
  package: 'filippo.io/age/cmd/age-keygen',
  versionLdflags: [],
};

/** `${XDG_CACHE_HOME:-~/.cache}/slipway` */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env['XDG_CACHE_HOME'];
  return join(xdg !== undefined && xdg !== '' ? xdg : join(homedir(), '.cache'), 'slipway');
}

/** `${XDG_CACHE_HOME:-~/.cache}/slipway/<name>-<version>/bin` */
export function toolBinDir(tool: GoTool, env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheRoot(env), `${tool.name}-${tool.version}`, 'bin');
}

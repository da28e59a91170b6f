import { FIELD_MANAGER_NAME } from '../core/constants.ts';
import { InternalError, UserError } from '../core/errors.ts';
import type { ApplyOptions, DeleteOptions, KubeApi } from '../core/ports.ts';
import {
  describeRef,
  isPlainObject,
  type KubeObject,
  type ObjectRef,
  type ResourceInfo,
} from '../core/objects.ts';
import { parseAggregatedDiscovery, parseResourceList, resourcePath } from './discovery.ts';
import { apiError } from './errors.ts';
import type { HttpPool } from './http.ts';

const AGGREGATED = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json';

/**
 * Kubernetes over raw JSON: objects go out and come back exactly as the server sends them, so no
 * typed model can drop a field. Discovery is loaded once (two requests with aggregated discovery)
 * and reloaded only when asked or when a kind is missing after CRDs were applied.
 */
export class KubeClient implements KubeApi {
  private readonly pool: HttpPool;
  private discovery: Map<string, ResourceInfo> | undefined;
  private loading: Promise<Map<string, ResourceInfo>> | undefined;

  constructor(pool: HttpPool) {
    this.pool = pool;
  }

  get requestCount(): number {
    return this.pool.requests;
  }

  invalidateDiscovery(): void {
    this.discovery = undefined;
    this.loading = undefined;
  }

  async resolve(apiVersion: string, kind: string): Promise<ResourceInfo | undefined> {
    const map = await this.loadDiscovery();
    return map.get(`${apiVersion}/${kind}`);
  }

  async resolveGroupKind(group: string, kind: string): Promise<ResourceInfo | undefined> {
    // Discovery lists a group's versions in the server's order of preference.
    for (const resource of (await this.loadDiscovery()).values())
      if (resource.group === group && resource.kind === kind) return resource;
    return undefined;
  }

  private loadDiscovery(): Promise<Map<string, ResourceInfo>> {
    if (this.discovery) return Promise.resolve(this.discovery);
    this.loading ??= this.fetchDiscovery().then(
      (map) => {
        this.discovery = map;
        return map;
      },
      (error: unknown) => {
        this.loading = undefined;
        throw error;
      },
    );
    return this.loading;
  }

  private async fetchDiscovery(): Promise<Map<string, ResourceInfo>> {
    const map = new Map<string, ResourceInfo>();
    for (const root of ['/api', '/apis']) {
      const response = await this.pool.request('GET', root, undefined, undefined, AGGREGATED);
      if (response.status !== 200) throw apiError(response.status, response.body, `API discovery (${root})`);
      const body = JSON.parse(response.body) as unknown;
      if (isPlainObject(body) && body.kind === 'APIGroupDiscoveryList') {
        parseAggregatedDiscovery(body, map);
        continue;
      }
      // An older server: walk each group version (one request each).
      const versions: string[] = [];
      if (isPlainObject(body) && Array.isArray(body.versions))
        versions.push(...body.versions.filter((v): v is string => typeof v === 'string'));
      if (isPlainObject(body) && Array.isArray(body.groups)) {
        for (const group of body.groups) {
          if (isPlainObject(group) && Array.isArray(group.versions)) {
            for (const v of group.versions)
              if (isPlainObject(v) && typeof v.groupVersion === 'string') versions.push(v.groupVersion);
          }
        }
      }
      await Promise.all(
        versions.map(async (gv) => {
          const list = await this.pool.request('GET', gv.includes('/') ? `/apis/${gv}` : `/api/${gv}`);
          if (list.status === 200) parseResourceList(gv, JSON.parse(list.body), map);
        }),
      );
    }
    return map;
  }

  private async resourceFor(ref: { apiVersion: string; kind: string }): Promise<ResourceInfo> {
    const resource = await this.resolve(ref.apiVersion, ref.kind);
    if (!resource) {
      throw new UserError('cluster', `the cluster does not serve ${ref.kind} in ${ref.apiVersion}`, {
        hint: 'install the CustomResourceDefinition first, or fix apiVersion/kind',
      });
    }
    return resource;
  }

  async get(ref: ObjectRef): Promise<KubeObject | undefined> {
    const resource = await this.resourceFor(ref);
    const response = await this.pool.request('GET', resourcePath(resource, ref.namespace, ref.name));
    if (response.status === 404) return undefined;
    if (response.status !== 200) throw apiError(response.status, response.body, `get ${describeRef(ref)}`);
    return JSON.parse(response.body) as KubeObject;
  }

  async list(
    resource: ResourceInfo,
    options: { namespace?: string; labelSelector?: string } = {},
  ): Promise<KubeObject[]> {
    const items: KubeObject[] = [];
    let next: string | undefined;
    do {
      const query = new URLSearchParams({ limit: '500' });
      if (options.labelSelector) query.set('labelSelector', options.labelSelector);
      if (next) query.set('continue', next);
      const response = await this.pool.request(
        'GET',
        `${resourcePath(resource, options.namespace)}?${query.toString()}`,
      );
      if (response.status !== 200)
        throw apiError(
          response.status,
          response.body,
          `list ${resource.plural}${options.namespace ? ` in ${options.namespace}` : ''}`,
        );
      const body = JSON.parse(response.body) as { items?: KubeObject[]; metadata?: { continue?: string } };
      const apiVersion = resource.group ? `${resource.group}/${resource.version}` : resource.version;
      // List items come without apiVersion/kind; put them back so items are whole objects.
      for (const item of body.items ?? []) items.push({ ...item, apiVersion, kind: resource.kind });
      next = body.metadata?.continue || undefined;
    } while (next);
    return items;
  }

  async apply(object: KubeObject, options: ApplyOptions): Promise<{ object: KubeObject; created: boolean }> {
    const resource = await this.resourceFor(object);
    const name = object.metadata.name;
    if (!name) throw new InternalError('apply of an object without a name');
    const query = new URLSearchParams({
      fieldManager: FIELD_MANAGER_NAME,
      fieldValidation: 'Strict',
      force: String(options.force),
    });
    if (options.dryRun) query.set('dryRun', 'All');
    const path = `${resourcePath(resource, object.metadata.namespace, name)}?${query.toString()}`;
    const response = await this.pool.request(
      'PATCH',
      path,
      JSON.stringify(object),
      'application/apply-patch+yaml',
    );
    if (response.status !== 200 && response.status !== 201) {
      throw apiError(
        response.status,
        response.body,
        `${options.dryRun ? 'dry-run apply' : 'apply'} ${describeRef({ ...object, name, namespace: object.metadata.namespace })}`,
      );
    }
    return { object: JSON.parse(response.body) as KubeObject, created: response.status === 201 };
  }

  async jsonPatch(ref: ObjectRef, operations: readonly unknown[]): Promise<KubeObject> {
    const resource = await this.resourceFor(ref);
    const query = new URLSearchParams({ fieldManager: FIELD_MANAGER_NAME });
    const response = await this.pool.request(
      'PATCH',
      `${resourcePath(resource, ref.namespace, ref.name)}?${query.toString()}`,
      JSON.stringify(operations),
      'application/json-patch+json',
    );
    if (response.status !== 200) throw apiError(response.status, response.body, `patch ${describeRef(ref)}`);
    return JSON.parse(response.body) as KubeObject;
  }

  async delete(ref: ObjectRef, options: DeleteOptions = {}): Promise<boolean> {
    const resource = await this.resourceFor(ref);
    const body: Record<string, unknown> = {
      apiVersion: 'v1',
      kind: 'DeleteOptions',
      propagationPolicy: 'Background',
    };
    if (options.uid || options.resourceVersion) {
      body.preconditions = {
        ...(options.uid ? { uid: options.uid } : {}),
        ...(options.resourceVersion ? { resourceVersion: options.resourceVersion } : {}),
      };
    }
    const response = await this.pool.request(
      'DELETE',
      resourcePath(resource, ref.namespace, ref.name),
      JSON.stringify(body),
    );
    if (response.status === 404) return false;
    if (response.status !== 200 && response.status !== 202)
      throw apiError(response.status, response.body, `delete ${describeRef(ref)}`);
    return true;
  }

  async create(object: KubeObject): Promise<KubeObject> {
    const resource = await this.resourceFor(object);
    const query = new URLSearchParams({ fieldManager: FIELD_MANAGER_NAME });
    const response = await this.pool.request(
      'POST',
      `${resourcePath(resource, object.metadata.namespace)}?${query.toString()}`,
      JSON.stringify(object),
    );
    if (response.status !== 201 && response.status !== 200)
      throw apiError(
        response.status,
        response.body,
        `create ${describeRef({ ...object, name: object.metadata.name ?? '', namespace: object.metadata.namespace })}`,
      );
    return JSON.parse(response.body) as KubeObject;
  }

  async replace(object: KubeObject, options: { readonly dryRun?: boolean } = {}): Promise<KubeObject> {
    const resource = await this.resourceFor(object);
    const name = object.metadata.name ?? '';
    const query = new URLSearchParams({ fieldManager: FIELD_MANAGER_NAME });
    if (options.dryRun) query.set('dryRun', 'All');
    const response = await this.pool.request(
      'PUT',
      `${resourcePath(resource, object.metadata.namespace, name)}?${query.toString()}`,
      JSON.stringify(object),
    );
    if (response.status !== 200)
      throw apiError(
        response.status,
        response.body,
        `replace ${describeRef({ ...object, name, namespace: object.metadata.namespace })}`,
      );
    return JSON.parse(response.body) as KubeObject;
  }

  /**
   * The user the API server sees for these credentials (SelfSubjectReview, what `kubectl auth
   * whoami` asks): every authenticated user may create one, and it writes nothing.
   */
  async whoami(): Promise<string> {
    const review = JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
    const response = await this.pool.request(
      'POST',
      '/apis/authentication.k8s.io/v1/selfsubjectreviews',
      review,
    );
    if (response.status !== 201 && response.status !== 200)
      throw apiError(response.status, response.body, 'ask the API server who this is (SelfSubjectReview)');
    const body = JSON.parse(response.body) as { status?: { userInfo?: { username?: string } } };
    return body.status?.userInfo?.username ?? '';
  }

  async servedApiVersions(): Promise<string[]> {
    const served = new Set<string>();
    for (const resource of (await this.loadDiscovery()).values()) {
      const groupVersion = resource.group ? `${resource.group}/${resource.version}` : resource.version;
      served.add(groupVersion);
      served.add(`${groupVersion}/${resource.kind}`);
    }
    return [...served].sort();
  }

  async serverVersion(): Promise<string> {
    const response = await this.pool.request('GET', '/version');
    if (response.status !== 200) throw apiError(response.status, response.body, 'read the server version');
    const body = JSON.parse(response.body) as { gitVersion?: string };
    return body.gitVersion ?? '';
  }
}

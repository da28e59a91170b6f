export const id = 459;
export const ids = [459];
export const modules = {

/***/ 5459:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  connect: () => (/* binding */ connect)
});

// EXTERNAL MODULE: ./node_modules/@kubernetes/client-node/dist/index.js + 873 modules
var dist = __webpack_require__(94);
// EXTERNAL MODULE: external "node:fs"
var external_node_fs_ = __webpack_require__(3024);
// EXTERNAL MODULE: external "node:os"
var external_node_os_ = __webpack_require__(8161);
// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __webpack_require__(6760);
// EXTERNAL MODULE: ./lib/core/errors.js
var errors = __webpack_require__(3828);
// EXTERNAL MODULE: ./lib/core/constants.js
var constants = __webpack_require__(3054);
// EXTERNAL MODULE: ./lib/core/objects.js
var objects = __webpack_require__(8427);
;// CONCATENATED MODULE: ./lib/kube/discovery.js

/**
 * Parses aggregated discovery (apidiscovery.k8s.io/v2 APIGroupDiscoveryList) into
 * `apiVersion/Kind` → resource. Subresources are skipped: `deployments/scale` is not a kind's home.
 */
function parseAggregatedDiscovery(body, into) {
    if (!(0,objects/* isPlainObject */.Qd)(body) || !Array.isArray(body.items))
        return;
    for (const group of body.items) {
        if (!(0,objects/* isPlainObject */.Qd)(group) || !(0,objects/* isPlainObject */.Qd)(group.metadata) || !Array.isArray(group.versions))
            continue;
        const groupName = typeof group.metadata.name === 'string' ? group.metadata.name : '';
        for (const version of group.versions) {
            if (!(0,objects/* isPlainObject */.Qd)(version) || typeof version.version !== 'string' || !Array.isArray(version.resources))
                continue;
            for (const resource of version.resources) {
                if (!(0,objects/* isPlainObject */.Qd)(resource) || typeof resource.resource !== 'string')
                    continue;
                const kind = (0,objects/* isPlainObject */.Qd)(resource.responseKind) && typeof resource.responseKind.kind === 'string'
                    ? resource.responseKind.kind
                    : undefined;
                if (!kind || resource.resource.includes('/'))
                    continue;
                const apiVersion = groupName ? `${groupName}/${version.version}` : version.version;
                const key = `${apiVersion}/${kind}`;
                if (!into.has(key)) {
                    into.set(key, {
                        group: groupName,
                        version: version.version,
                        kind,
                        plural: resource.resource,
                        namespaced: resource.scope === 'Namespaced',
                    });
                }
            }
        }
    }
}
/** Parses a legacy APIResourceList (one group/version) into the same map. */
function parseResourceList(apiVersion, body, into) {
    if (!(0,objects/* isPlainObject */.Qd)(body) || !Array.isArray(body.resources))
        return;
    const slash = apiVersion.indexOf('/');
    const group = slash === -1 ? '' : apiVersion.slice(0, slash);
    const version = slash === -1 ? apiVersion : apiVersion.slice(slash + 1);
    for (const resource of body.resources) {
        if (!(0,objects/* isPlainObject */.Qd)(resource) ||
            typeof resource.name !== 'string' ||
            typeof resource.kind !== 'string' ||
            resource.name.includes('/'))
            continue;
        const key = `${apiVersion}/${resource.kind}`;
        if (!into.has(key))
            into.set(key, {
                group,
                version,
                kind: resource.kind,
                plural: resource.name,
                namespaced: resource.namespaced === true,
            });
    }
}
function resourcePath(resource, namespace, name) {
    const base = resource.group ? `/apis/${resource.group}/${resource.version}` : `/api/${resource.version}`;
    const ns = resource.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
    return `${base}${ns}/${resource.plural}${name === undefined ? '' : `/${encodeURIComponent(name)}`}`;
}

;// CONCATENATED MODULE: ./lib/kube/errors.js


/** A refusal from the API server, with its HTTP status and the Status object's reason and causes. */
class KubeApiError extends errors/* UserError */.yo {
    status;
    reason;
    causes;
    constructor(status, reason, message, causes, hint) {
        super(status === 403 || status === 401 ? 'permission' : status === 409 ? 'conflict' : 'cluster', message, hint ? { hint } : {});
        this.status = status;
        this.reason = reason;
        this.causes = causes;
    }
}
/** Builds the error for a non-2xx response, keeping the server's own words (they name the field). */
function apiError(status, body, what) {
    let reason = '';
    let message = body.trim().slice(0, 2000);
    let causes = [];
    try {
        const parsed = JSON.parse(body);
        if ((0,objects/* isPlainObject */.Qd)(parsed)) {
            reason = typeof parsed.reason === 'string' ? parsed.reason : '';
            if (typeof parsed.message === 'string')
                message = parsed.message;
            const details = parsed.details;
            if ((0,objects/* isPlainObject */.Qd)(details) && Array.isArray(details.causes))
                causes = details.causes.filter(objects/* isPlainObject */.Qd);
        }
    }
    catch {
        // not a Status object: keep the raw text
    }
    const hint = status === 401
        ? 'the credentials were refused: check the kubeconfig or token'
        : status === 403
            ? 'grant this identity the missing RBAC permission (server-side dry-run needs the same write verbs as apply)'
            : undefined;
    return new KubeApiError(status, reason, `${what}: ${message || `HTTP ${status}`}`, causes, hint);
}

;// CONCATENATED MODULE: ./lib/kube/client.js





const AGGREGATED = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json';
/**
 * Kubernetes over raw JSON: objects go out and come back exactly as the server sends them, so no
 * typed model can drop a field. Discovery is loaded once (two requests with aggregated discovery)
 * and reloaded only when asked or when a kind is missing after CRDs were applied.
 */
class KubeClient {
    pool;
    discovery;
    loading;
    constructor(pool) {
        this.pool = pool;
    }
    get requestCount() {
        return this.pool.requests;
    }
    invalidateDiscovery() {
        this.discovery = undefined;
        this.loading = undefined;
    }
    async resolve(apiVersion, kind) {
        const map = await this.loadDiscovery();
        return map.get(`${apiVersion}/${kind}`);
    }
    loadDiscovery() {
        if (this.discovery)
            return Promise.resolve(this.discovery);
        this.loading ??= this.fetchDiscovery().then((map) => {
            this.discovery = map;
            return map;
        }, (error) => {
            this.loading = undefined;
            throw error;
        });
        return this.loading;
    }
    async fetchDiscovery() {
        const map = new Map();
        for (const root of ['/api', '/apis']) {
            const response = await this.pool.request('GET', root, undefined, undefined, AGGREGATED);
            if (response.status !== 200)
                throw apiError(response.status, response.body, `API discovery (${root})`);
            const body = JSON.parse(response.body);
            if ((0,objects/* isPlainObject */.Qd)(body) && body.kind === 'APIGroupDiscoveryList') {
                parseAggregatedDiscovery(body, map);
                continue;
            }
            // An older server: walk each group version (one request each).
            const versions = [];
            if ((0,objects/* isPlainObject */.Qd)(body) && Array.isArray(body.versions))
                versions.push(...body.versions.filter((v) => typeof v === 'string'));
            if ((0,objects/* isPlainObject */.Qd)(body) && Array.isArray(body.groups)) {
                for (const group of body.groups) {
                    if ((0,objects/* isPlainObject */.Qd)(group) && Array.isArray(group.versions)) {
                        for (const v of group.versions)
                            if ((0,objects/* isPlainObject */.Qd)(v) && typeof v.groupVersion === 'string')
                                versions.push(v.groupVersion);
                    }
                }
            }
            await Promise.all(versions.map(async (gv) => {
                const list = await this.pool.request('GET', gv.includes('/') ? `/apis/${gv}` : `/api/${gv}`);
                if (list.status === 200)
                    parseResourceList(gv, JSON.parse(list.body), map);
            }));
        }
        return map;
    }
    async resourceFor(ref) {
        const resource = await this.resolve(ref.apiVersion, ref.kind);
        if (!resource) {
            throw new errors/* UserError */.yo('cluster', `the cluster does not serve ${ref.kind} in ${ref.apiVersion}`, {
                hint: 'install the CustomResourceDefinition first, or fix apiVersion/kind',
            });
        }
        return resource;
    }
    async get(ref) {
        const resource = await this.resourceFor(ref);
        const response = await this.pool.request('GET', resourcePath(resource, ref.namespace, ref.name));
        if (response.status === 404)
            return undefined;
        if (response.status !== 200)
            throw apiError(response.status, response.body, `get ${(0,objects/* describeRef */.Ro)(ref)}`);
        return JSON.parse(response.body);
    }
    async list(resource, options = {}) {
        const items = [];
        let next;
        do {
            const query = new URLSearchParams({ limit: '500' });
            if (options.labelSelector)
                query.set('labelSelector', options.labelSelector);
            if (next)
                query.set('continue', next);
            const response = await this.pool.request('GET', `${resourcePath(resource, options.namespace)}?${query.toString()}`);
            if (response.status !== 200)
                throw apiError(response.status, response.body, `list ${resource.plural}${options.namespace ? ` in ${options.namespace}` : ''}`);
            const body = JSON.parse(response.body);
            const apiVersion = resource.group ? `${resource.group}/${resource.version}` : resource.version;
            // List items come without apiVersion/kind; put them back so items are whole objects.
            for (const item of body.items ?? [])
                items.push({ ...item, apiVersion, kind: resource.kind });
            next = body.metadata?.continue || undefined;
        } while (next);
        return items;
    }
    async apply(object, options) {
        const resource = await this.resourceFor(object);
        const name = object.metadata.name;
        if (!name)
            throw new errors/* InternalError */.Gd('apply of an object without a name');
        const query = new URLSearchParams({
            fieldManager: constants/* FIELD_MANAGER_NAME */.PC,
            fieldValidation: 'Strict',
            force: String(options.force),
        });
        if (options.dryRun)
            query.set('dryRun', 'All');
        const path = `${resourcePath(resource, object.metadata.namespace, name)}?${query.toString()}`;
        const response = await this.pool.request('PATCH', path, JSON.stringify(object), 'application/apply-patch+yaml');
        if (response.status !== 200 && response.status !== 201) {
            throw apiError(response.status, response.body, `${options.dryRun ? 'dry-run apply' : 'apply'} ${(0,objects/* describeRef */.Ro)({ ...object, name, namespace: object.metadata.namespace })}`);
        }
        return { object: JSON.parse(response.body), created: response.status === 201 };
    }
    async delete(ref, options = {}) {
        const resource = await this.resourceFor(ref);
        const body = {
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
        const response = await this.pool.request('DELETE', resourcePath(resource, ref.namespace, ref.name), JSON.stringify(body));
        if (response.status === 404)
            return false;
        if (response.status !== 200 && response.status !== 202)
            throw apiError(response.status, response.body, `delete ${(0,objects/* describeRef */.Ro)(ref)}`);
        return true;
    }
    async create(object) {
        const resource = await this.resourceFor(object);
        const query = new URLSearchParams({ fieldManager: constants/* FIELD_MANAGER_NAME */.PC });
        const response = await this.pool.request('POST', `${resourcePath(resource, object.metadata.namespace)}?${query.toString()}`, JSON.stringify(object));
        if (response.status !== 201 && response.status !== 200)
            throw apiError(response.status, response.body, `create ${(0,objects/* describeRef */.Ro)({ ...object, name: object.metadata.name ?? '', namespace: object.metadata.namespace })}`);
        return JSON.parse(response.body);
    }
    async replace(object) {
        const resource = await this.resourceFor(object);
        const name = object.metadata.name ?? '';
        const query = new URLSearchParams({ fieldManager: constants/* FIELD_MANAGER_NAME */.PC });
        const response = await this.pool.request('PUT', `${resourcePath(resource, object.metadata.namespace, name)}?${query.toString()}`, JSON.stringify(object));
        if (response.status !== 200)
            throw apiError(response.status, response.body, `replace ${(0,objects/* describeRef */.Ro)({ ...object, name, namespace: object.metadata.namespace })}`);
        return JSON.parse(response.body);
    }
    async serverVersion() {
        const response = await this.pool.request('GET', '/version');
        if (response.status !== 200)
            throw apiError(response.status, response.body, 'read the server version');
        const body = JSON.parse(response.body);
        return body.gitVersion ?? '';
    }
}

// EXTERNAL MODULE: external "node:https"
var external_node_https_ = __webpack_require__(4708);
// EXTERNAL MODULE: external "node:http"
var external_node_http_ = __webpack_require__(7067);
;// CONCATENATED MODULE: ./lib/kube/http.js



const RETRYABLE_CODES = new Set([
    'ECONNRESET',
    'ECONNREFUSED',
    'EPIPE',
    'ETIMEDOUT',
    'EAI_AGAIN',
    'ENOTFOUND',
    'UND_ERR_SOCKET',
    'EHOSTUNREACH',
]);
/**
 * One keep-alive connection pool with a concurrency limit, and retries with exponential backoff
 * and jitter for what is transient: 429, 5xx (except 501), and connection failures.
 */
class HttpPool {
    connection;
    agent;
    limit;
    retry;
    active = 0;
    waiting = [];
    requests = 0;
    /**
     * Set once a request has retried a connection failure for the whole deadline: the server is
     * gone, and every later request fails at once instead of waiting out its own deadline (a
     * thousand objects would otherwise take minutes to report one dead server).
     */
    unreachable;
    retries = 0;
    constructor(connection, concurrency, retry) {
        this.connection = connection;
        this.limit = Math.max(1, concurrency);
        this.retry = retry;
        const options = { keepAlive: true, maxSockets: this.limit, ...connection.agentOptions };
        this.agent = connection.server.startsWith('https:') ? new external_node_https_.Agent(options) : new external_node_http_.Agent(options);
    }
    close() {
        this.agent.destroy();
    }
    async request(method, path, body, contentType = 'application/json', accept = 'application/json') {
        if (this.unreachable)
            throw this.unreachable;
        const started = Date.now();
        for (let attempt = 0;; attempt++) {
            let response;
            let failure;
            try {
                response = await this.limited(() => this.once(method, path, body, contentType, accept));
            }
            catch (error) {
                failure = error;
            }
            const transient = response
                ? (response.status === 429 || (response.status >= 500 && response.status !== 501)) &&
                    !isPermanentServerError(response)
                : isTransient(failure);
            if (!transient) {
                if (response)
                    return response;
                throw connectionError(this.connection.server, failure);
            }
            const elapsed = Date.now() - started;
            const retryAfter = Number(response?.headers['retry-after']);
            const backoff = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** attempt);
            const delay = Number.isFinite(retryAfter) && retryAfter > 0
                ? Math.min(retryAfter * 1000, this.retry.maxDelayMs)
                : backoff / 2 + Math.random() * (backoff / 2);
            if (elapsed + delay > this.retry.deadlineMs) {
                if (response)
                    return response;
                this.unreachable = connectionError(this.connection.server, failure, elapsed);
                throw this.unreachable;
            }
            this.retries++;
            await new Promise((resolve) => setTimeout(resolve, delay));
        }
    }
    async limited(work) {
        if (this.active >= this.limit)
            await new Promise((resolve) => this.waiting.push(resolve));
        this.active++;
        try {
            return await work();
        }
        finally {
            this.active--;
            this.waiting.shift()?.();
        }
    }
    async once(method, path, body, contentType, accept) {
        this.requests++;
        const headers = {
            ...(await this.connection.headers()),
            Accept: accept,
            'User-Agent': 'slipway',
        };
        if (body !== undefined) {
            headers['Content-Type'] = contentType;
            headers['Content-Length'] = String(Buffer.byteLength(body));
        }
        // Plain concatenation keeps a server URL's own path prefix (e.g. a proxy's /k8s/clusters/x).
        const url = new URL(`${this.connection.server.replace(/\/$/, '')}${path}`);
        const transport = url.protocol === 'https:' ? external_node_https_ : external_node_http_;
        return new Promise((resolve, reject) => {
            const request = transport.request(url, { method, headers, agent: this.agent, timeout: 60_000 }, (response) => {
                const chunks = [];
                response.on('data', (chunk) => chunks.push(chunk));
                response.on('end', () => {
                    resolve({
                        status: response.statusCode ?? 0,
                        body: Buffer.concat(chunks).toString('utf8'),
                        headers: response.headers,
                    });
                });
                response.on('error', reject);
            });
            request.on('timeout', () => request.destroy(Object.assign(new Error('request timed out'), { code: 'ETIMEDOUT' })));
            request.on('error', reject);
            request.end(body);
        });
    }
}
/**
 * A 500 that retrying cannot fix: server-side apply of a field outside the schema is reported as
 * HTTP 500 "failed to create typed patch object" (kubernetes/kubernetes#139253), not 400.
 */
function isPermanentServerError(response) {
    return response.status === 500 && /failed to create typed (patch|live) object/.test(response.body);
}
function isTransient(error) {
    const code = error?.code;
    return typeof code === 'string' && RETRYABLE_CODES.has(code);
}
function connectionError(server, error, elapsedMs) {
    const code = error?.code;
    const detail = error instanceof Error ? error.message : String(error);
    const waited = elapsedMs === undefined ? '' : ` (retried for ${(elapsedMs / 1000).toFixed(1)} s)`;
    return new errors/* UserError */.yo('connection', `cannot reach the Kubernetes API server at ${server}${waited}: ${typeof code === 'string' ? code : detail}`, {
        hint: 'check that the cluster is up and the kubeconfig points at it; in CI, check the runner can reach the API server',
        cause: error,
    });
}

;// CONCATENATED MODULE: ./lib/kube/connect.js







/**
 * client-node owns what it is good at — kubeconfig files, contexts, exec and OIDC auth, TLS
 * material — and hands over TLS options and auth headers; requests themselves go through our pool.
 */
async function connect(options) {
    const config = new dist/* KubeConfig */.ypW();
    // client-node would fall back to http://localhost:8080 and fail with a confusing TLS message.
    const home = external_node_path_.join(external_node_os_.homedir(), '.kube', 'config');
    if (!options.kubeconfig &&
        !process.env.KUBECONFIG &&
        !process.env.KUBERNETES_SERVICE_HOST &&
        !(0,external_node_fs_.existsSync)(home))
        throw new errors/* UserError */.yo('cluster', `no kubeconfig: --kubeconfig is not given, KUBECONFIG is not set and ${home} does not exist`, {
            hint: 'pass --kubeconfig FILE or set KUBECONFIG (in GitLab CI: a file-type CI/CD variable KUBECONFIG per environment); `slipway render` and `slipway validate` need no cluster',
        });
    try {
        if (options.kubeconfig)
            config.loadFromFile(options.kubeconfig);
        else
            config.loadFromDefault();
    }
    catch (error) {
        throw new errors/* UserError */.yo('cluster', `cannot load the kubeconfig${options.kubeconfig ? ` ${options.kubeconfig}` : ''}: ${error instanceof Error ? error.message : String(error)}`, {
            hint: 'pass --kubeconfig FILE, set KUBECONFIG, or (in CI) provide the kubeconfig input from a secret',
        });
    }
    if (options.context) {
        if (!config.getContexts().some((context) => context.name === options.context)) {
            throw new errors/* UserError */.yo('cluster', `the kubeconfig has no context "${options.context}" (it has: ${config
                .getContexts()
                .map((c) => c.name)
                .join(', ') || 'none'})`);
        }
        config.setCurrentContext(options.context);
    }
    const cluster = config.getCurrentCluster();
    if (!cluster) {
        throw new errors/* UserError */.yo('cluster', 'no Kubernetes cluster is configured (the kubeconfig has no current context)', {
            hint: 'pass --kubeconfig FILE or --context NAME; `slipway render` and `slipway validate` work without a cluster',
        });
    }
    const base = {};
    try {
        await config.applyToHTTPSOptions(base);
    }
    catch (error) {
        // client-node's own refusals (an http:// server without skip-TLS, a failing exec plugin).
        throw new errors/* UserError */.yo('cluster', `cannot use the kubeconfig's cluster ${cluster.server}: ${error instanceof Error ? error.message : String(error)}`, {
            hint: 'check the cluster and user entries of the kubeconfig (server URL, certificates, exec plugin)',
        });
    }
    const agentOptions = {};
    if (base.ca)
        agentOptions.ca = base.ca;
    if (base.cert)
        agentOptions.cert = base.cert;
    if (base.key)
        agentOptions.key = base.key;
    if (base.rejectUnauthorized !== undefined)
        agentOptions.rejectUnauthorized = base.rejectUnauthorized;
    if (cluster.tlsServerName)
        agentOptions.servername = cluster.tlsServerName;
    let cached;
    const headers = async () => {
        // Re-ask client-node now and then: exec-plugin and OIDC tokens expire during long applies.
        if (!cached || Date.now() - cached.at > 60_000) {
            const fresh = {};
            await config.applyToHTTPSOptions(fresh);
            const out = {};
            for (const [key, value] of Object.entries(fresh.headers ?? {}))
                if (typeof value === 'string')
                    out[key] = value;
            if (fresh.auth)
                out.Authorization = `Basic ${Buffer.from(fresh.auth).toString('base64')}`;
            cached = { headers: out, at: Date.now() };
        }
        return cached.headers;
    };
    const user = config.getCurrentUser();
    const secrets = [
        user?.token,
        user?.password,
        user?.keyData,
        (await headers()).Authorization?.replace(/^(Bearer|Basic) /, ''),
    ].filter((s) => typeof s === 'string' && s.length > 0);
    const pool = new HttpPool({ server: cluster.server, agentOptions, headers }, options.concurrency, {
        deadlineMs: options.retryDeadlineMs,
        baseDelayMs: 200,
        maxDelayMs: 5_000,
    });
    return {
        client: new KubeClient(pool),
        server: cluster.server,
        context: config.getCurrentContext(),
        secrets,
        close: () => pool.close(),
    };
}


/***/ })

};

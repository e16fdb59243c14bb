/**
 * A DATABASE_URL with several hosts, as libpq reads it:
 *
 *   postgres://kalata:pw@10.0.0.1:5432,10.0.0.2:5432/kalata?target_session_attrs=read-write
 *
 * node-postgres connects to one host. This pool keeps one pg pool per host
 * and hands out connections of the host that answers as asked (libpq's
 * `target_session_attrs`: any, read-write, read-only, primary, standby,
 * prefer-standby). It stays on that host while it answers; when a connection
 * to it fails, or it turns out to be of the wrong kind (a primary demoted, a
 * standby not promoted yet), the hosts are tried again in order. So after a
 * failover (`pg_ctl promote` on the standby) new connections go to the new
 * primary by themselves, and the old primary's connections fail and are
 * dropped. What fails in between is what fails during an outage: a turn
 * waits in the Redis spool, and the console's page shows an error.
 *
 * Why not a proxy: PgBouncer and HAProxy are one more moving part (and a
 * single point of failure of their own unless doubled); a libpq-style URL
 * needs nothing on the servers. Both still work: point DATABASE_URL at them.
 */
import pg from 'pg';

export type TargetSessionAttrs = 'any' | 'read-write' | 'read-only' | 'primary' | 'standby' | 'prefer-standby';
const TARGETS: readonly TargetSessionAttrs[] = ['any', 'read-write', 'read-only', 'primary', 'standby', 'prefer-standby'];

export interface PostgresHosts {
  /** one single-host URL per host, in the order given, without target_session_attrs */
  urls: string[];
  hosts: string[];
  target: TargetSessionAttrs;
}

/** Splits a libpq-style URL; undefined for a plain one-host URL without target_session_attrs (a pg pool as usual). */
export function postgresHosts(url: string): PostgresHosts | undefined {
  const parts = /^(postgres(?:ql)?:\/\/)([^@/?#]*@)?([^/?#]*)(\/[^?#]*)?(\?[^#]*)?$/.exec(url);
  if (!parts) return undefined;
  const [, scheme, auth = '', hostList = '', path = '', query = ''] = parts;
  const params = new URLSearchParams(query);
  const target = params.get('target_session_attrs') ?? 'any';
  if (!TARGETS.includes(target as TargetSessionAttrs)) {
    throw new Error(`target_session_attrs=${target} is not one of ${TARGETS.join(', ')}`);
  }
  params.delete('target_session_attrs');
  const hosts = hostList.split(',').map((h) => h.trim());
  if (hosts.length === 1 && !query.includes('target_session_attrs')) return undefined;
  if (hosts.some((h) => !h)) throw new Error('an empty host in the list of hosts');
  const rest = params.toString();
  return {
    hosts: hosts.map((h) => (/:\d+$/.test(h) ? h : `${h}:5432`)),
    urls: hosts.map((h) => `${scheme}${auth}${h}${path}${rest ? `?${rest}` : ''}`),
    target: target as TargetSessionAttrs,
  };
}

interface Role {
  recovery: boolean;
  readOnly: boolean;
}

function fits(target: TargetSessionAttrs, role: Role, pass: 'first' | 'second'): boolean {
  switch (target) {
    case 'any':
      return true;
    case 'read-write':
      return !role.readOnly;
    case 'read-only':
      return role.readOnly;
    case 'primary':
      return !role.recovery;
    case 'standby':
      return role.recovery;
    case 'prefer-standby':
      return pass === 'second' || role.recovery;
  }
}

export class NoSuitableHostError extends Error {
  override name = 'NoSuitableHostError';
}

/**
 * A pool over the hosts (see the top of this file), in the shape Kysely's
 * PostgresDialect takes. `onClient` runs once per new connection, as a pg
 * pool's 'connect' event.
 */
export function createMultiHostPool(hosts: PostgresHosts, options: pg.PoolConfig, onClient: (client: pg.PoolClient) => void) {
  const pools = hosts.urls.map((connectionString) => {
    const pool = new pg.Pool({ ...options, connectionString });
    pool.on('error', () => {});
    pool.on('connect', onClient);
    return pool;
  });
  /** each connection's role, read once when it is first handed out */
  const checked = new WeakSet<pg.PoolClient>();
  let current = 0;
  let connectingTo: Promise<pg.PoolClient> | undefined;

  async function fromHost(i: number, pass: 'first' | 'second'): Promise<pg.PoolClient | undefined> {
    const client = await pools[i]!.connect();
    if (checked.has(client)) return client;
    try {
      const { rows } = await client.query<{ recovery: boolean; read_only: string }>(`select pg_is_in_recovery() as recovery, current_setting('transaction_read_only') as read_only`);
      const role = { recovery: rows[0]!.recovery, readOnly: rows[0]!.read_only === 'on' };
      if (!fits(hosts.target, role, pass)) {
        client.release(true);
        return undefined;
      }
    } catch (err) {
      client.release(true);
      throw err;
    }
    checked.add(client);
    return client;
  }

  /** The hosts in order from the current one, each once (prefer-standby: twice, the second time taking a primary). */
  async function find(): Promise<pg.PoolClient> {
    const problems: string[] = [];
    const passes: ('first' | 'second')[] = hosts.target === 'prefer-standby' ? ['first', 'second'] : ['first'];
    for (const pass of passes) {
      for (let k = 0; k < pools.length; k++) {
        const i = (current + k) % pools.length;
        try {
          const client = await fromHost(i, pass);
          if (client) {
            current = i;
            return client;
          }
          problems.push(`${hosts.hosts[i]}: not ${hosts.target}`);
        } catch (err) {
          problems.push(`${hosts.hosts[i]}: ${(err as Error).message}`);
        }
      }
    }
    throw new NoSuitableHostError(`no ${hosts.target} PostgreSQL among ${hosts.hosts.join(', ')} (${problems.join('; ')})`);
  }

  return {
    async connect(): Promise<pg.PoolClient> {
      // The host that served last, while it keeps answering as asked (a connection already checked is not asked again).
      try {
        const client = await fromHost(current, 'first');
        if (client) return client;
      } catch {
        // down, or too slow: look for another
      }
      // One search at a time: concurrent requests wait for it rather than each probing every host.
      connectingTo ??= find().finally(() => {
        connectingTo = undefined;
      });
      await connectingTo.then((c) => c.release(), () => undefined);
      const client = await fromHost(current, 'second');
      if (!client) throw new NoSuitableHostError(`${hosts.hosts[current]} is no longer ${hosts.target}`);
      return client;
    },
    async end(): Promise<void> {
      await Promise.all(pools.map((p) => p.end()));
    },
    /** the host connections go to now (tests, the banner) */
    get currentHost(): string {
      return hosts.hosts[current]!;
    },
  };
}

/** A libpq-style DATABASE_URL with several hosts (src/store/postgres-hosts.ts): how it is read, and what is refused. */
import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../src/config/config.js';
import { postgresHosts } from '../../src/store/postgres-hosts.js';

describe('postgresHosts', () => {
  it('leaves a plain one-host URL to a pg pool as before', () => {
    expect(postgresHosts('postgres://kalata:pw@db:5432/kalata')).toBeUndefined();
    expect(postgresHosts('postgresql://db/kalata?sslmode=require')).toBeUndefined();
  });

  it('splits the hosts, in order, keeping the credentials, database and other parameters, with 5432 where no port is given', () => {
    expect(postgresHosts('postgres://kalata:p%40ss@10.0.0.1:5433,db-2/kalata?sslmode=require&target_session_attrs=read-write')).toEqual({
      hosts: ['10.0.0.1:5433', 'db-2:5432'],
      urls: ['postgres://kalata:p%40ss@10.0.0.1:5433/kalata?sslmode=require', 'postgres://kalata:p%40ss@db-2/kalata?sslmode=require'],
      target: 'read-write',
    });
    expect(postgresHosts('postgres://a:1,b:2/k')).toMatchObject({ target: 'any', hosts: ['a:1', 'b:2'] });
    // One host that must be the primary is checked too.
    expect(postgresHosts('postgres://a:1/k?target_session_attrs=primary')).toMatchObject({ target: 'primary', urls: ['postgres://a:1/k'] });
  });

  it('refuses an unknown target_session_attrs and an empty host, in DATABASE_URL and DATABASE_READ_URL, without showing the URL', () => {
    expect(() => postgresHosts('postgres://a,b/k?target_session_attrs=master')).toThrow(/^target_session_attrs=master is not one of any, read-write, read-only, primary, standby, prefer-standby$/);
    expect(() => postgresHosts('postgres://a,,b/k')).toThrow(/empty host/);
    expect(() => loadConfig({ DATABASE_URL: 'postgres://u:secret@a,b/k?target_session_attrs=leader' })).toThrow(/^invalid DATABASE_URL: target_session_attrs=leader is not one of/);
    expect(() => loadConfig({ DATABASE_URL: 'postgres://u:secret@a,b/k?target_session_attrs=leader' })).not.toThrow(/secret/);
    expect(() => loadConfig({ DATABASE_URL: 'postgres://a/k', DATABASE_READ_URL: 'postgres://b,/k' })).toThrow(/^invalid DATABASE_READ_URL: an empty host/);
    expect(() => loadConfig({ DATABASE_READ_URL: 'postgres://b/k' })).toThrow(/^DATABASE_READ_URL is set without DATABASE_URL/);
  });
});

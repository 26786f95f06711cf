import assert from 'node:assert/strict';
import os from 'node:os';
import { describe, it } from 'node:test';
import { HostNames } from './host-names.js';

describe('HostNames: the Host values a TCP listener answers to', () => {
  it('a loopback listener: its address, localhost and [::1], at its own port only', () => {
    const names = new HostNames('127.0.0.1', 4280, []);
    assert.equal(names.siteOf('127.0.0.1:4280', 'http'), 'http://127.0.0.1:4280');
    assert.equal(names.siteOf('LOCALHOST:4280', 'http'), 'http://localhost:4280');
    assert.equal(names.siteOf('[::1]:4280', 'https'), 'https://[::1]:4280');
    for (const host of ['127.0.0.1:4281', '127.0.0.1', 'evil.example:4280', 'localhost.evil.example:4280', '127.0.0.1:4280@evil.example', '127.0.0.1:4280/x', '', 'a b:4280']) {
      assert.equal(names.siteOf(host, 'http'), undefined, host);
    }
    assert.equal(names.siteOf(undefined, 'http'), undefined, 'no Host at all');
  });

  it('a port left out is the scheme’s default', () => {
    assert.equal(new HostNames('127.0.0.1', 443, []).siteOf('localhost', 'https'), 'https://localhost');
    assert.equal(new HostNames('127.0.0.1', 443, []).siteOf('localhost', 'http'), undefined);
  });

  it('a listener on one address answers to that address only', () => {
    const names = new HostNames('192.0.2.7', 8443, []);
    assert.equal(names.siteOf('192.0.2.7:8443', 'https'), 'https://192.0.2.7:8443');
    assert.equal(names.siteOf('localhost:8443', 'https'), undefined);
  });

  it('a listener on all interfaces answers to each of the machine’s addresses and to its host name', () => {
    const names = new HostNames('0.0.0.0', 4280, []);
    const address = Object.values(os.networkInterfaces()).flat().find((entry) => entry?.family === 'IPv4')!.address;
    assert.equal(names.siteOf(`${address}:4280`, 'http'), `http://${address}:4280`);
    assert.equal(names.siteOf(`${os.hostname()}:4280`, 'http'), `http://${os.hostname().toLowerCase()}:4280`);
    assert.equal(names.siteOf('localhost:4280', 'http'), 'http://localhost:4280');
    assert.equal(names.siteOf('rebind.evil.example:4280', 'http'), undefined);
  });

  it('web.allowed_hosts: a name at any port, or at the port it gives', () => {
    const names = new HostNames('127.0.0.1', 4280, ['cp.example.org', 'devbox.lan:8443']);
    assert.equal(names.siteOf('cp.example.org', 'https'), 'https://cp.example.org');
    assert.equal(names.siteOf('cp.example.org:9000', 'https'), 'https://cp.example.org:9000');
    assert.equal(names.siteOf('devbox.lan:8443', 'https'), 'https://devbox.lan:8443');
    assert.equal(names.siteOf('devbox.lan:4280', 'https'), undefined);
    assert.equal(names.siteOf('sub.cp.example.org', 'https'), undefined);
  });
});

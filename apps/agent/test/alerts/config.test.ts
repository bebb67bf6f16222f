/** The alert config file: defaults, JSON and YAML, and the errors a person sees. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  AlertConfigError,
  DEFAULT_RULES,
  defaultAlertsConfig,
  loadAlertsConfig,
  parseAlertsConfigText,
  publicWebhookUrl,
  validateAlertsConfig,
} from '../../src/alerts/config.js';

const dir = mkdtempSync(join(tmpdir(), 'netscope-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('defaults', () => {
  it('are the seed articles\' thresholds', () => {
    const r = defaultAlertsConfig().rules;
    expect([r.synRecv.threshold, r.timeWait.threshold, r.closeWait.threshold, r.established.threshold, r.perRemote.threshold, r.perLocalPort.threshold]).toEqual([
      50, 1000, 100, 200, 50, 100,
    ]);
    expect(Object.values(r).every((x) => x.enabled && x.raiseAfterSec >= 0 && x.clearAfterSec >= 0)).toBe(true);
    expect(defaultAlertsConfig().services).toEqual([]);
    expect(defaultAlertsConfig().webhook).toBeNull();
  });

  it('an empty file is the defaults; a partial rule keeps the other defaults of that rule', () => {
    expect(parseAlertsConfigText('', 'netscope.yaml').rules).toEqual(DEFAULT_RULES);
    const c = parseAlertsConfigText('alerts:\n  synRecv:\n    threshold: 20\n', 'netscope.yaml');
    expect(c.rules.synRecv).toEqual({ ...DEFAULT_RULES.synRecv, threshold: 20 });
    expect(c.rules.timeWait).toEqual(DEFAULT_RULES.timeWait);
  });

  it('returned defaults are copies: changing one does not change the next', () => {
    const a = defaultAlertsConfig();
    a.rules.synRecv.threshold = 1;
    expect(defaultAlertsConfig().rules.synRecv.threshold).toBe(50);
  });
});

describe('a full file', () => {
  const yaml = `
# netscope alert config
alerts:
  synRecv: { threshold: 80, raiseAfterSec: 5, clearAfterSec: 60, severity: critical }
  established: { enabled: false }
  perRemote: { threshold: 100, ignoreLoopback: false }
  interfaceErrors: { threshold: 0, windowSec: 30 }
services:
  - 22/tcp
  - 53/udp
  - { port: 443, proto: tcp, program: nginx, name: web }
  - { port: 8080 }
webhook:
  url: https://hooks.example.com/netscope?key=secret
  timeoutMs: 2000
  retries: 3
  headers: { Authorization: Bearer abc }
`;

  it('parses as YAML, and the same document as JSON', () => {
    const c = parseAlertsConfigText(yaml, 'netscope.yaml');
    expect(c.rules.synRecv).toMatchObject({ threshold: 80, raiseAfterSec: 5, clearAfterSec: 60, severity: 'critical' });
    expect(c.rules.established.enabled).toBe(false);
    expect(c.rules.perRemote.ignoreLoopback).toBe(false);
    expect(c.rules.interfaceErrors).toMatchObject({ threshold: 0, windowSec: 30 });
    expect(c.services).toEqual([
      { port: 22, proto: 'tcp', program: null, name: null },
      { port: 53, proto: 'udp', program: null, name: null },
      { port: 443, proto: 'tcp', program: 'nginx', name: 'web' },
      { port: 8080, proto: 'tcp', program: null, name: null },
    ]);
    expect(c.webhook).toEqual({ url: 'https://hooks.example.com/netscope?key=secret', timeoutMs: 2000, retries: 3, headers: { Authorization: 'Bearer abc' } });
    const json = JSON.stringify({ alerts: { synRecv: { threshold: 80 } }, services: ['22/tcp'] });
    expect(parseAlertsConfigText(json, 'netscope.json').rules.synRecv.threshold).toBe(80);
  });

  it('the API shows the webhook URL without its query or credentials', () => {
    expect(publicWebhookUrl('https://u:p@hooks.example.com/x?key=secret')).toBe('https://hooks.example.com/x (query/credentials hidden)');
    expect(publicWebhookUrl('http://127.0.0.1:9000/hook')).toBe('http://127.0.0.1:9000/hook');
  });
});

describe('errors name the file, the path inside it and the bad value', () => {
  const cases: [string, string, string][] = [
    ['a word for a number', 'alerts:\n  synRecv:\n    threshold: lots\n', 'netscope.yaml: alerts.synRecv.threshold must be a number ≥ 0, got "lots"'],
    ['a negative threshold', 'alerts:\n  timeWait: { threshold: -1 }\n', 'netscope.yaml: alerts.timeWait.threshold must be a number ≥ 0, got -1'],
    ['a misspelt key', 'alerts:\n  synRecv: { treshold: 5 }\n', 'netscope.yaml: alerts.synRecv.treshold is not a known setting (known: enabled, severity, threshold, raiseAfterSec, clearAfterSec)'],
    ['an unknown rule', 'alerts:\n  synFlood: { threshold: 5 }\n', 'netscope.yaml: alerts.synFlood is not a known setting (known: synRecv, timeWait, closeWait, established, perRemote, perLocalPort, serviceDown, interfaceErrors, listenOverflows)'],
    ['an unknown top-level key', 'alert:\n  synRecv: {}\n', 'netscope.yaml: alert is not a known setting (known: alerts, services, webhook)'],
    ['a bad severity', 'alerts:\n  closeWait: { severity: urgent }\n', 'netscope.yaml: alerts.closeWait.severity must be one of info, warning, critical, got "urgent"'],
    ['raiseAfterSec out of range', 'alerts:\n  synRecv: { raiseAfterSec: 100000 }\n', 'netscope.yaml: alerts.synRecv.raiseAfterSec must be a number of seconds between 0 and 86400, got 100000'],
    ['a threshold on serviceDown', 'alerts:\n  serviceDown: { threshold: 1 }\n', 'netscope.yaml: alerts.serviceDown.threshold is not a known setting (known: enabled, severity, raiseAfterSec, clearAfterSec)'],
    ['windowSec on a state rule', 'alerts:\n  synRecv: { windowSec: 5 }\n', 'netscope.yaml: alerts.synRecv.windowSec is not a known setting (known: enabled, severity, threshold, raiseAfterSec, clearAfterSec)'],
    ['enabled as text', 'alerts:\n  synRecv: { enabled: "no" }\n', 'netscope.yaml: alerts.synRecv.enabled must be true or false, got "no"'],
    ['a bad service string', 'services:\n  - ssh\n', 'netscope.yaml: services[0] must be "PORT/tcp" or "PORT/udp" (e.g. 22/tcp) or {port, proto, program?, name?}, got "ssh"'],
    ['a port out of range', 'services:\n  - 22/tcp\n  - 70000/tcp\n', 'netscope.yaml: services[1] must be "PORT/tcp" or "PORT/udp" (e.g. 22/tcp) or {port, proto, program?, name?}, got "70000/tcp"'],
    ['a bad service object', 'services:\n  - { port: 22, proto: sctp }\n', 'netscope.yaml: services[0].proto must be tcp or udp, got "sctp"'],
    ['an unknown service key', 'services:\n  - { port: 22, prog: sshd }\n', 'netscope.yaml: services[0].prog is not a known setting (known: port, proto, program, name)'],
    ['a duplicate service', 'services: [22/tcp, { port: 22 }]\n', 'netscope.yaml: services[1] lists 22/tcp a second time'],
    ['services not a list', 'services: 22/tcp\n', 'netscope.yaml: services must be a list, e.g. [22/tcp, 53/udp], got "22/tcp"'],
    ['a webhook URL that is not http', 'webhook:\n  url: ftp://example.com/\n', 'netscope.yaml: webhook.url must be an http:// or https:// URL, got "ftp://example.com/"'],
    ['webhook retries too many', 'webhook:\n  url: http://127.0.0.1/\n  retries: 99\n', 'netscope.yaml: webhook.retries must be a whole number between 0 and 10, got 99'],
    ['a document that is a list', '- 1\n- 2\n', 'netscope.yaml: must be a map with alerts, services and/or webhook, got [1,2]'],
    ['YAML syntax', 'alerts:\n  synRecv: { threshold: 5\n', 'netscope.yaml:3:1: not valid YAML:'],
    ['a bad port list', 'alerts:\n  perLocalPort: { ports: [443, http] }\n', 'netscope.yaml: alerts.perLocalPort.ports[1] must be a port number between 1 and 65535, got "http"'],
    ['a duplicate YAML key', 'alerts:\n  synRecv: {}\n  synRecv: {}\n', 'netscope.yaml:3:3: not valid YAML: Map keys must be unique'],
  ];
  it.each(cases)('%s', (_what, text, message) => {
    let caught: unknown;
    try {
      parseAlertsConfigText(text, '/etc/netscope/netscope.yaml');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(AlertConfigError);
    expect((caught as Error).message.startsWith(message), (caught as Error).message).toBe(true);
  });

  it('JSON syntax errors name the file', () => {
    expect(() => parseAlertsConfigText('{"alerts": ', 'netscope.json')).toThrow(/^netscope\.json: not valid JSON: /);
  });

  it('a missing file names the path', () => {
    expect(() => loadAlertsConfig(join(dir, 'nope.yaml'))).toThrow(`cannot read config file ${join(dir, 'nope.yaml')}: no such file`);
  });

  it('loads from disk and remembers the path', () => {
    const file = join(dir, 'ok.yml');
    writeFileSync(file, 'services: [22/tcp]\n');
    const c = loadAlertsConfig(file);
    expect(c.file).toBe(file);
    expect(c.services).toHaveLength(1);
  });

  it('validates documents from elsewhere too (object in, config out)', () => {
    expect(validateAlertsConfig({ alerts: { synRecv: { threshold: 3 } } }, 'x.json').rules.synRecv.threshold).toBe(3);
    expect(() => validateAlertsConfig({ alerts: { synRecv: { threshold: Number.NaN } } }, 'x.json')).toThrow('x.json: alerts.synRecv.threshold must be a number ≥ 0');
  });
});

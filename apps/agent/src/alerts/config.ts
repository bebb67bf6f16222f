/**
 * The alert config file (`--config FILE`, JSON or YAML): rules, watched services, webhook.
 * Everything is optional; what is absent takes the documented default (DEFAULT_RULES, the seed
 * articles' thresholds). Validated with valibot (no eval, so CSP-safe should the page reuse it);
 * every error names the file, the path inside it and the bad value, and unknown keys are errors
 * (a misspelt `treshold` silently ignored would leave a wall screen trusting the default).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename } from 'node:path';
import * as v from 'valibot';
import {
  ALERT_RULE_NAMES,
  type AlertRuleConfig,
  type AlertRuleName,
  type AlertRulesConfig,
  type AlertSeverity,
  type WatchedServiceConfig,
} from '@netscope/shared';

export interface WebhookConfig {
  url: string;
  timeoutMs: number;
  retries: number;
  headers: Record<string, string>;
}

export interface AlertsConfig {
  /** The file read; null on defaults. */
  file: string | null;
  rules: AlertRulesConfig;
  services: WatchedServiceConfig[];
  webhook: WebhookConfig | null;
}

const rule = (
  severity: AlertSeverity,
  threshold: number,
  raiseAfterSec: number,
  clearAfterSec: number,
  extra: Partial<AlertRuleConfig> = {},
): AlertRuleConfig => ({ enabled: true, severity, threshold, raiseAfterSec, clearAfterSec, ...extra });

/**
 * Defaults. Thresholds: the seed articles' scripts (SYN_RECV > 50, TIME_WAIT > 1000, CLOSE_WAIT >
 * 100, ESTABLISHED > 200, one IP > 50 connections) and one local port > 100 connections.
 */
export const DEFAULT_RULES: Readonly<AlertRulesConfig> = Object.freeze({
  synRecv: rule('critical', 50, 10, 30),
  timeWait: rule('warning', 1000, 30, 60),
  closeWait: rule('warning', 100, 30, 60),
  established: rule('warning', 200, 30, 60),
  perRemote: rule('warning', 50, 10, 30, { ignoreLoopback: true }),
  perLocalPort: rule('warning', 100, 30, 60),
  serviceDown: rule('critical', 0, 5, 10),
  interfaceErrors: rule('warning', 5, 30, 60, { windowSec: 60 }),
  listenOverflows: rule('warning', 0, 5, 60, { windowSec: 60 }),
});

export const DEFAULT_WEBHOOK = { timeoutMs: 5000, retries: 2 } as const;

export function defaultAlertsConfig(): AlertsConfig {
  return { file: null, rules: cloneRules(DEFAULT_RULES), services: [], webhook: null };
}

function cloneRules(rules: Readonly<AlertRulesConfig>): AlertRulesConfig {
  const out = {} as AlertRulesConfig;
  for (const name of ALERT_RULE_NAMES) out[name] = { ...rules[name] };
  return out;
}

export class AlertConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AlertConfigError';
  }
}

/* ---------- schema ---------- */

const num = (what: string, min: number, max: number) =>
  v.pipe(
    v.number(`must be ${what}`),
    v.finite(`must be ${what}`),
    v.minValue(min, `must be ${what}`),
    v.maxValue(max, `must be ${what}`),
  );
const int = (what: string, min: number, max: number) => v.pipe(num(what, min, max), v.integer(`must be ${what}`));

const ruleKeys = {
  enabled: v.optional(v.boolean('must be true or false')),
  severity: v.optional(v.picklist(['info', 'warning', 'critical'], 'must be one of info, warning, critical')),
  threshold: v.optional(num('a number ≥ 0', 0, 1e12)),
  raiseAfterSec: v.optional(num('a number of seconds between 0 and 86400', 0, 86_400)),
  clearAfterSec: v.optional(num('a number of seconds between 0 and 86400', 0, 86_400)),
};
const windowKey = { windowSec: v.optional(num('a number of seconds between 1 and 3600', 1, 3600)) };

const RuleSchemas = {
  synRecv: v.strictObject(ruleKeys),
  timeWait: v.strictObject(ruleKeys),
  closeWait: v.strictObject(ruleKeys),
  established: v.strictObject(ruleKeys),
  perRemote: v.strictObject({ ...ruleKeys, ignoreLoopback: v.optional(v.boolean('must be true or false')) }),
  perLocalPort: v.strictObject({
    ...ruleKeys,
    ports: v.optional(
      v.pipe(
        v.array(int('a port number between 1 and 65535', 1, 65535), 'must be a list of port numbers, e.g. [80, 443]'),
        v.maxLength(1000, 'must list at most 1000 ports'),
      ),
    ),
  }),
  serviceDown: v.strictObject({
    enabled: ruleKeys.enabled,
    severity: ruleKeys.severity,
    raiseAfterSec: ruleKeys.raiseAfterSec,
    clearAfterSec: ruleKeys.clearAfterSec,
  }),
  interfaceErrors: v.strictObject({ ...ruleKeys, ...windowKey }),
  listenOverflows: v.strictObject({ ...ruleKeys, ...windowKey }),
} satisfies Record<AlertRuleName, unknown>;

const ServiceObject = v.strictObject({
  port: int('a port number between 1 and 65535', 1, 65535),
  proto: v.optional(v.picklist(['tcp', 'udp'], 'must be tcp or udp')),
  program: v.optional(v.pipe(v.string('must be a program name (text)'), v.minLength(1, 'must not be empty'), v.maxLength(64, 'must be at most 64 characters'))),
  name: v.optional(v.pipe(v.string('must be text'), v.minLength(1, 'must not be empty'), v.maxLength(64, 'must be at most 64 characters'))),
});

const WebhookSchema = v.strictObject({
  url: v.pipe(
    v.string('must be an http:// or https:// URL'),
    v.check((s) => {
      try {
        const u = new URL(s);
        return u.protocol === 'http:' || u.protocol === 'https:';
      } catch {
        return false;
      }
    }, 'must be an http:// or https:// URL'),
  ),
  timeoutMs: v.optional(int('a whole number of ms between 100 and 60000', 100, 60_000)),
  retries: v.optional(int('a whole number between 0 and 10', 0, 10)),
  headers: v.optional(v.record(v.string(), v.string('must be text'), 'must be a map of header name to text')),
});

const FileSchema = v.strictObject({
  alerts: v.optional(
    v.strictObject(
      {
        synRecv: v.optional(RuleSchemas.synRecv),
        timeWait: v.optional(RuleSchemas.timeWait),
        closeWait: v.optional(RuleSchemas.closeWait),
        established: v.optional(RuleSchemas.established),
        perRemote: v.optional(RuleSchemas.perRemote),
        perLocalPort: v.optional(RuleSchemas.perLocalPort),
        serviceDown: v.optional(RuleSchemas.serviceDown),
        interfaceErrors: v.optional(RuleSchemas.interfaceErrors),
        listenOverflows: v.optional(RuleSchemas.listenOverflows),
      },
      'must be a map of rule name to settings',
    ),
  ),
  services: v.optional(v.array(v.unknown(), 'must be a list, e.g. [22/tcp, 53/udp]')),
  webhook: v.optional(v.union([v.null(), WebhookSchema], 'must be {url, timeoutMs?, retries?, headers?}')),
});

/** Keys allowed at a path, for "is not a known setting" errors. */
function knownKeys(parentPath: readonly string[]): readonly string[] {
  if (parentPath.length === 0) return Object.keys(FileSchema.entries);
  const [top, second] = parentPath;
  if (top === 'alerts' && parentPath.length === 1) return ALERT_RULE_NAMES;
  if (top === 'alerts' && second !== undefined && second in RuleSchemas) {
    return Object.keys(RuleSchemas[second as AlertRuleName].entries);
  }
  if (top === 'webhook') return Object.keys(WebhookSchema.entries);
  if (top === 'services') return Object.keys(ServiceObject.entries);
  return [];
}

function formatPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number' || /^\d+$/.test(p)) out += `[${p}]`;
    else out += out === '' ? p : `.${p}`;
  }
  return out;
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

type Issue = v.BaseIssue<unknown>;

function issueMessage(file: string, issue: Issue, prefix: readonly (string | number)[] = []): string {
  const path = [...prefix, ...(issue.path?.map((p) => p.key as string | number) ?? [])];
  if (issue.type === 'strict_object' && issue.expected === 'never') {
    const parent = path.slice(0, -1).map(String);
    const known = knownKeys(prefix.length > 0 && prefix[0] === 'services' ? ['services'] : parent);
    return `${file}: ${formatPath(path)} is not a known setting${known.length ? ` (known: ${known.join(', ')})` : ''}`;
  }
  const where = path.length ? formatPath(path) : 'the file';
  return `${file}: ${where} ${issue.message}, got ${show(issue.input)}`;
}

const SERVICE_TEXT = /^\s*(\d{1,5})\s*\/\s*(tcp|udp)\s*$/i;

function parseService(file: string, index: number, entry: unknown): WatchedServiceConfig {
  const where = `${file}: services[${index}]`;
  if (typeof entry === 'string' || typeof entry === 'number') {
    const m = SERVICE_TEXT.exec(String(entry));
    const port = m ? Number(m[1]) : NaN;
    if (!m || port < 1 || port > 65535) {
      throw new AlertConfigError(`${where} must be "PORT/tcp" or "PORT/udp" (e.g. 22/tcp) or {port, proto, program?, name?}, got ${show(entry)}`);
    }
    return { port, proto: m[2]!.toLowerCase() as 'tcp' | 'udp', program: null, name: null };
  }
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    throw new AlertConfigError(`${where} must be "PORT/tcp", "PORT/udp" or {port, proto, program?, name?}, got ${show(entry)}`);
  }
  const r = v.safeParse(ServiceObject, entry);
  if (!r.success) throw new AlertConfigError(issueMessage(file, r.issues[0], ['services', index]));
  return { port: r.output.port, proto: r.output.proto ?? 'tcp', program: r.output.program ?? null, name: r.output.name ?? null };
}

/** Validate a parsed document (from JSON or YAML). `file` names it in errors. Pure. */
export function validateAlertsConfig(doc: unknown, file: string): AlertsConfig {
  if (doc === null || doc === undefined) return { ...defaultAlertsConfig(), file };
  const r = v.safeParse(FileSchema, doc);
  if (!r.success) {
    if (typeof doc !== 'object' || Array.isArray(doc)) {
      throw new AlertConfigError(`${file}: must be a map with alerts, services and/or webhook, got ${show(doc)}`);
    }
    throw new AlertConfigError(issueMessage(file, r.issues[0]));
  }
  const out = r.output;
  const rules = cloneRules(DEFAULT_RULES);
  for (const name of ALERT_RULE_NAMES) {
    const given = out.alerts?.[name];
    if (!given) continue;
    for (const [k, val] of Object.entries(given)) {
      if (val !== undefined) (rules[name] as unknown as Record<string, unknown>)[k] = val;
    }
  }
  const services: WatchedServiceConfig[] = [];
  const seen = new Set<string>();
  (out.services ?? []).forEach((entry, i) => {
    const s = parseService(file, i, entry);
    const key = `${s.port}/${s.proto}`;
    if (seen.has(key)) throw new AlertConfigError(`${file}: services[${i}] lists ${key} a second time`);
    seen.add(key);
    services.push(s);
  });
  if (services.length > 256) throw new AlertConfigError(`${file}: services lists ${services.length} entries; at most 256`);
  const webhook: WebhookConfig | null = out.webhook
    ? {
        url: out.webhook.url,
        timeoutMs: out.webhook.timeoutMs ?? DEFAULT_WEBHOOK.timeoutMs,
        retries: out.webhook.retries ?? DEFAULT_WEBHOOK.retries,
        headers: out.webhook.headers ?? {},
      }
    : null;
  return { file, rules, services, webhook };
}

/**
 * The YAML parser, loaded on first use: most agents run without a config file or with a JSON one,
 * and loading `yaml` costs ~2 MB of RSS for the agent's lifetime (measured, 1k-socket agent).
 */
let yamlModule: typeof import('yaml') | null = null;
function yaml(): typeof import('yaml') {
  yamlModule ??= createRequire(import.meta.url)('yaml') as typeof import('yaml');
  return yamlModule;
}

/** Parse text as JSON (`.json`) or YAML (anything else; YAML is a superset of JSON). */
export function parseAlertsConfigText(text: string, file: string): AlertsConfig {
  const name = basename(file);
  let doc: unknown;
  if (/\.json$/i.test(file)) {
    try {
      doc = JSON.parse(text);
    } catch (err) {
      throw new AlertConfigError(`${name}: not valid JSON: ${(err as Error).message}`);
    }
  } else {
    const parsed = yaml().parseDocument(text, { prettyErrors: true, uniqueKeys: true });
    const first = parsed.errors[0];
    if (first) {
      const at = first.linePos?.[0];
      const pos = at ? `:${at.line}:${at.col}` : '';
      throw new AlertConfigError(`${name}${pos}: not valid YAML: ${first.message.split('\n')[0]}`);
    }
    doc = parsed.toJS();
  }
  return validateAlertsConfig(doc, name);
}

/** Read and validate a config file; errors name the file. */
export function loadAlertsConfig(file: string): AlertsConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new AlertConfigError(`cannot read config file ${file}: ${why}`);
  }
  const cfg = parseAlertsConfigText(text, file);
  return { ...cfg, file };
}

/** The webhook URL as the API shows it: no credentials, no query (tokens often live there). */
export function publicWebhookUrl(url: string): string {
  const u = new URL(url);
  const hidden = u.search !== '' || u.username !== '' || u.password !== '';
  return `${u.protocol}//${u.host}${u.pathname}${hidden ? ' (query/credentials hidden)' : ''}`;
}

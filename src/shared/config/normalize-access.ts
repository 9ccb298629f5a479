/**
 * Who sees what: the profiles (their server lists resolved against the enabled servers), the
 * static tokens that select them, and the OAuth rules that map a JWT's claims to them.
 */
import { MIN_TOKEN_LENGTH } from './access-schema.js';
import { DEFAULT_PROFILE, unrestrictedProfile } from './defaults.js';
import { expandVariables } from './expand.js';
import type { NormalizeContext } from './normalize-context.js';
import type { ConfigProblem } from './problems.js';
import { formatPath } from './problems.js';
import type { ConfigFile } from './schema.js';
import type { OauthIngressConfig, ProfileConfig, ServerConfig, TokenConfig } from './types.js';

/**
 * Profiles with their server lists resolved against the enabled servers. A profile may name
 * a disabled server (it is then simply absent), never one the file does not define.
 */
export function normalizeProfiles(
  file: ConfigFile,
  defined: readonly string[],
  enabled: readonly ServerConfig[],
  problems: ConfigProblem[],
): Record<string, ProfileConfig> {
  const enabledIds = enabled.map((s) => s.id);
  const profiles: Record<string, ProfileConfig> = {
    [DEFAULT_PROFILE]: unrestrictedProfile(DEFAULT_PROFILE, enabledIds),
  };
  for (const [name, entry] of Object.entries(file.profiles ?? {})) {
    (entry.servers ?? []).forEach((id, index) => {
      if (!defined.includes(id)) {
        problems.push({
          path: formatPath(['profiles', name, 'servers', index]),
          message: `expected a server id defined under "mcpServers" (${defined.join(', ') || 'none is'}), found ${JSON.stringify(id)}`,
        });
      }
    });
    const listed = entry.servers === undefined ? undefined : new Set(entry.servers);
    const servers = listed === undefined ? enabledIds : enabledIds.filter((id) => listed.has(id));
    const rules = (kind: 'tools' | 'prompts') => ({
      allow: entry[kind]?.allow ?? null,
      deny: entry[kind]?.deny ?? [],
      rename: { ...entry[kind]?.rename },
    });
    const profile: ProfileConfig = {
      name,
      description: entry.description ?? '',
      servers,
      tools: rules('tools'),
      prompts: rules('prompts'),
      resources: { allow: entry.resources?.allow ?? null, deny: entry.resources?.deny ?? [] },
      toolSurface: entry.toolSurface ?? 'full',
      restricted: false,
      rateLimit: rateLimitOf(entry.rateLimit),
    };
    profile.restricted =
      servers.length < enabledIds.length ||
      profile.toolSurface === 'meta' ||
      [profile.tools, profile.prompts, profile.resources].some(
        (r) => r.allow !== null || r.deny.length > 0,
      ) ||
      Object.keys(profile.tools.rename).length + Object.keys(profile.prompts.rename).length > 0;
    profiles[name] = profile;
  }
  return profiles;
}

export function normalizeTokens(
  file: ConfigFile,
  profiles: Record<string, ProfileConfig>,
  context: NormalizeContext,
  problems: ConfigProblem[],
): TokenConfig[] {
  const tokens: TokenConfig[] = [];
  const owner = new Map<string, string>();
  for (const [name, entry] of Object.entries(file.tokens ?? {})) {
    const at = (key: string): string => formatPath(['tokens', name, key]);
    const before = problems.length;
    const token = expandVariables(entry.token, context.env, (variable) =>
      problems.push({
        path: at('token'),
        message: `\${${variable}} is not set in the environment; set it to the token`,
      }),
    );
    // The value is a secret: messages give its length, never its text.
    if (problems.length === before && token.length < MIN_TOKEN_LENGTH) {
      problems.push({
        path: at('token'),
        message: `expected a token of at least ${MIN_TOKEN_LENGTH} characters (e.g. from \`openssl rand -hex 32\`), found one of ${token.length}`,
      });
    }
    const first = owner.get(token);
    if (first !== undefined && token !== '') {
      problems.push({
        path: at('token'),
        message: `expected a token of its own, found the same one as tokens.${first}; a token selects one profile`,
      });
    }
    owner.set(token, name);
    const profile = entry.profile ?? DEFAULT_PROFILE;
    if (profiles[profile] === undefined) {
      problems.push({
        path: at('profile'),
        message: `expected a profile defined under "profiles" (${Object.keys(profiles).join(', ')}), found ${JSON.stringify(profile)}`,
      });
    }
    // Built with fromEntries: a name like "__proto__" stays a plain own key.
    const secrets = Object.fromEntries(
      Object.entries(entry.secrets ?? {}).map(([key, value]) => [
        key,
        expandVariables(value, context.env, (variable) =>
          problems.push({
            path: formatPath(['tokens', name, 'secrets', key]),
            message: `\${${variable}} is not set in the environment; set it to the value`,
          }),
        ),
      ]),
    );
    tokens.push({
      name,
      token,
      profile,
      admin: entry.admin ?? false,
      rateLimit: rateLimitOf(entry.rateLimit),
      secrets,
    });
  }
  return tokens;
}

/** The ingress OAuth settings with their defaults; null when the file has none. */
export function normalizeOauth(
  file: ConfigFile,
  profiles: Record<string, ProfileConfig>,
  problems: ConfigProblem[],
): OauthIngressConfig | null {
  const oauth = file.oauth;
  if (oauth === undefined) return null;
  const known = (profile: string, path: (string | number)[]): void => {
    if (profiles[profile] !== undefined) return;
    problems.push({
      path: formatPath(['oauth', ...path]),
      message: `expected a profile defined under "profiles" (${Object.keys(profiles).join(', ')}), found ${JSON.stringify(profile)}`,
    });
  };
  oauth.profiles?.forEach((rule, index) => known(rule.profile, ['profiles', index, 'profile']));
  if (oauth.defaultProfile !== undefined) known(oauth.defaultProfile, ['defaultProfile']);
  return {
    issuer: oauth.issuer,
    jwksUri: oauth.jwksUri ?? null,
    resource: oauth.resource?.replace(/\/+$/, '') ?? null,
    audience: oauth.audience ?? null,
    scopes: [...(oauth.scopes ?? [])],
    profiles: (oauth.profiles ?? []).map((rule) => ({
      claim: rule.claim,
      value: rule.value,
      profile: rule.profile,
      admin: rule.admin ?? false,
    })),
    defaultProfile: oauth.defaultProfile ?? null,
  };
}

/** A burst defaults to one second's worth of calls (at least one call). */
function rateLimitOf(entry: { perSecond: number; burst?: number | undefined } | undefined) {
  if (entry === undefined) return null;
  return {
    perSecond: entry.perSecond,
    burst: entry.burst ?? Math.max(1, Math.ceil(entry.perSecond)),
  };
}

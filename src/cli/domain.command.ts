/** `guild domain block|limit|allow|clear|list ...`: what this server does with remote domains. */
import type { DomainError } from '../groups/instance.service.ts';
import type { DomainPolicyKind } from '../storage/moderation.store.ts';
import type { ParsedArgs } from './args.ts';
import type { CliCore, CliIo } from './main.ts';
import { checkArgs, fail, parseLimit, usage, when } from './cli-support.ts';
import { field } from './terminal-text.ts';

export const DOMAIN_USAGE = `  domain block DOMAIN [--reason R]              stop federating with a domain (and its sub-domains; an IP or CIDR
                                                range also works); its members leave every group
  domain limit DOMAIN [--reason R]              hold posts from a domain's members for approval
  domain allow DOMAIN [--reason R]              federate with a domain (GUILD_FEDERATION_MODE=allowlist)
  domain clear DOMAIN [--reason R]              remove a domain's policy
  domain list [block|limit|allow] [--after DOMAIN] [--limit N]
                                                list domain policies`;

const SET_USAGE = 'guild domain block|limit|allow|clear DOMAIN [--reason R]';
const KINDS: readonly DomainPolicyKind[] = ['block', 'limit', 'allow'];

export async function domainCommand(args: ParsedArgs, core: CliCore, io: CliIo): Promise<number> {
  const [, sub, domain] = args.positional;
  if (sub === 'list') return list(args, core, io);
  if (sub !== 'block' && sub !== 'limit' && sub !== 'allow' && sub !== 'clear') {
    io.err(`usage:\n${DOMAIN_USAGE}`);
    return 2;
  }
  const bad = checkArgs(args, io, { words: 3, options: ['reason'] }, SET_USAGE);
  if (bad !== null || domain === undefined) return bad ?? 2;
  const reason = args.flags.reason ?? '';
  const i = core.instance;
  const r =
    sub === 'block'
      ? await i.blockDomain(domain, reason)
      : sub === 'limit'
        ? await i.limitDomain(domain, reason)
        : sub === 'allow'
          ? await i.allowDomain(domain, reason)
          : await i.clearDomain(domain, reason);
  if (!r.ok) return fail(io, describe(r.error, domain));
  const c = r.value;
  if (!c.changed) {
    io.out(
      sub === 'clear'
        ? `${c.domain} has no policy (nothing changed)`
        : `${c.domain} is already ${pastTense(sub)} (nothing changed)`,
    );
  } else if (sub === 'clear') {
    io.out(`cleared the policy of ${c.domain} (was ${c.previous?.policy ?? 'none'})`);
  } else {
    io.out(`${pastTense(sub)} ${c.domain}`);
  }
  if (c.removedMembers > 0)
    io.out(`removed ${c.removedMembers} memberships and join requests of ${c.domain}`);
  if (sub === 'allow' && i.federationMode === 'open')
    io.out('note: the server federates with every domain not blocked (GUILD_FEDERATION_MODE=open)');
  if (c.changed) io.out('running servers apply the change within seconds');
  return 0;
}

async function list(args: ParsedArgs, core: CliCore, io: CliIo): Promise<number> {
  const text = 'guild domain list [block|limit|allow] [--after DOMAIN] [--limit N]';
  const bad = checkArgs(args, io, { words: 2, optional: 1, options: ['after', 'limit'] }, text);
  if (bad !== null) return bad;
  const kindArg = args.positional[2];
  const kind = kindArg === undefined ? null : KINDS.find((k) => k === kindArg);
  if (kind === undefined) return usage(io, text);
  const limit = parseLimit(args);
  if (typeof limit === 'string') return fail(io, limit);
  const after = args.flags.after ?? null;
  const r = await core.instance.listDomains(kind, after, limit);
  if (!r.ok) return fail(io, describe(r.error, after ?? ''));
  if (r.value.length === 0) {
    io.out(
      after !== null ? 'no more' : kind === null ? 'no domain policies' : `no domains with policy ${kind}`,
    );
    return 0;
  }
  for (const p of r.value)
    io.out(`${field(p.domain)}\t${p.policy}\tsince ${when(p.createdAt)}\t${field(p.reason)}`);
  const last = r.value[r.value.length - 1];
  if (r.value.length === limit && last)
    io.out(`more: guild domain list${kind ? ` ${kind}` : ''} --after ${last.domain}`);
  return 0;
}

function pastTense(sub: 'block' | 'limit' | 'allow'): string {
  return { block: 'blocked', limit: 'limited', allow: 'allowed' }[sub];
}

function describe(e: DomainError, domain: string): string {
  switch (e.type) {
    case 'invalid-domain':
      return `"${domain}": ${e.detail}`;
    case 'own-domain':
      return `${domain} is this server's own domain`;
    case 'invalid-reason':
      return `--reason: ${e.detail}`;
    default: {
      const never: never = e;
      throw new Error(`unhandled ${JSON.stringify(never)}`);
    }
  }
}

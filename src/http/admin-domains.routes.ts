/** Admin API: the instance's domain policies (block, limit, allow). */
import type { Router } from 'express';
import type { DomainError, DomainChange } from '../groups/instance.service.ts';
import type { DomainPolicy, DomainPolicyKind } from '../storage/moderation.store.ts';
import { HttpError } from './http-error.ts';
import type { AdminRouteDeps } from './admin.routes.ts';
import {
  iso,
  jsonBody,
  optionalBody,
  page,
  pageQuery,
  param,
  query,
  reasonField,
  reqString,
  stringCursor,
} from './admin-decode.ts';

const KINDS: readonly DomainPolicyKind[] = ['block', 'limit', 'allow'];

export function domainAdminRoutes(r: Router, d: AdminRouteDeps): void {
  r.get('/domains', async (req, res) => {
    const q = pageQuery(req);
    const policy = query(req, 'policy');
    const kind = policy === undefined ? null : KINDS.find((k) => k === policy);
    if (kind === undefined) throw new HttpError(400, 'policy must be block, limit or allow');
    const listed = await d.instance.listDomains(kind, stringCursor(q.after), q.limit);
    if (!listed.ok) throw domainHttpError(listed.error);
    res.json(page(listed.value, q.limit, policyJson, (p) => [p.domain]));
  });

  r.get('/domains/:domain', async (req, res) => {
    const found = await d.instance.getDomain(param(req, 'domain'));
    if (!found.ok) throw domainHttpError(found.error);
    if (found.value === null) throw new HttpError(404, 'the domain has no policy');
    res.json(policyJson(found.value));
  });

  r.put('/domains/:domain', async (req, res) => {
    const body = jsonBody(req, ['policy', 'reason']);
    const policy = reqString(body, 'policy', 16);
    const reason = reasonField(body);
    const domain = param(req, 'domain');
    const i = d.instance;
    const set =
      policy === 'block'
        ? await i.blockDomain(domain, reason)
        : policy === 'limit'
          ? await i.limitDomain(domain, reason)
          : policy === 'allow'
            ? await i.allowDomain(domain, reason)
            : null;
    if (set === null) throw new HttpError(400, 'policy must be block, limit or allow');
    if (!set.ok) throw domainHttpError(set.error);
    res.status(set.value.previous === null ? 201 : 200).json(changeJson(set.value));
  });

  r.delete('/domains/:domain', async (req, res) => {
    const reason = reasonField(optionalBody(req, ['reason']));
    const cleared = await d.instance.clearDomain(param(req, 'domain'), reason);
    if (!cleared.ok) throw domainHttpError(cleared.error);
    if (!cleared.value.changed) throw new HttpError(404, 'the domain has no policy');
    res.status(204).end();
  });
}

function policyJson(p: DomainPolicy) {
  return { domain: p.domain, policy: p.policy, reason: p.reason, createdAt: iso(p.createdAt) };
}

function changeJson(c: DomainChange) {
  return {
    domain: c.domain,
    policy: c.policy ? policyJson(c.policy) : null,
    changed: c.changed,
    removedMembers: c.removedMembers,
  };
}

function domainHttpError(e: DomainError): HttpError {
  switch (e.type) {
    case 'invalid-domain':
      return new HttpError(400, e.detail);
    case 'invalid-reason':
      return new HttpError(400, e.detail);
    case 'own-domain':
      return new HttpError(400, "this server's own domain cannot be blocked or limited");
    default: {
      const never: never = e;
      throw new Error(`unhandled ${JSON.stringify(never)}`);
    }
  }
}

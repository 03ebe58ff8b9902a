/** MongoDB adapter of the storage port: the instance's domain policies (blocked and limited hosts). */
import type { Collection, Filter } from 'mongodb';
import type { DomainPolicy, DomainPolicyKind, DomainPolicyRepository } from '../moderation.store.ts';
import { retryOnDuplicateKey } from './errors.mongodb.ts';
import type { DomainPolicyDoc } from './moderation-documents.mongodb.ts';

function toPolicy(doc: DomainPolicyDoc): DomainPolicy {
  return { domain: doc._id, policy: doc.policy, reason: doc.reason, createdAt: doc.createdAt };
}

/** Instance-level domain policies in the `domain_policies` collection, `_id` = domain. */
export class MongoDomainPolicyRepository implements DomainPolicyRepository {
  readonly #policies: Collection<DomainPolicyDoc>;

  constructor(policies: Collection<DomainPolicyDoc>) {
    this.#policies = policies;
  }

  async putDomainPolicy(p: DomainPolicy): Promise<void> {
    const doc: DomainPolicyDoc = {
      _id: p.domain,
      policy: p.policy,
      reason: p.reason,
      createdAt: p.createdAt,
    };
    await retryOnDuplicateKey(() => this.#policies.replaceOne({ _id: p.domain }, doc, { upsert: true }));
  }

  async removeDomainPolicy(domain: string): Promise<boolean> {
    const result = await this.#policies.deleteOne({ _id: domain });
    return result.deletedCount === 1;
  }

  async getDomainPolicy(domain: string): Promise<DomainPolicy | null> {
    const doc = await this.#policies.findOne({ _id: domain });
    return doc ? toPolicy(doc) : null;
  }

  async listDomainPolicies(
    kind: DomainPolicyKind | null,
    after: string | null,
    limit: number,
  ): Promise<DomainPolicy[]> {
    if (limit <= 0) return [];
    const filter: Filter<DomainPolicyDoc> = {};
    if (kind !== null) filter.policy = kind;
    if (after !== null) filter._id = { $gt: after };
    const docs = await this.#policies.find(filter).sort({ _id: 1 }).limit(limit).toArray();
    return docs.map(toPolicy);
  }

  async countDomainPolicies(kind: DomainPolicyKind): Promise<number> {
    return this.#policies.countDocuments({ policy: kind });
  }
}

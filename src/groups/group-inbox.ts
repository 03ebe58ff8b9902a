/**
 * What the groups do with an activity that passed the inbox (signature verified, signer = actor) and parsed:
 * its kind's handler finds the groups it concerns, then in each one checks it (`verify`) and, unless refused,
 * applies it (`apply`). One outcome per group; every refusal carries its reason, which the intake job logs.
 */
import type { InboundActivity } from '../activitypub/inbound.parser.ts';
import type { Handler, HandlerTable, Outcome } from './handlers/handler.ts';
import type { ServiceInbox } from './service-inbox.ts';
import type { InstanceHandler, InstanceHandlerTable } from './handlers/instance-handlers.ts';

export class GroupInbox {
  /**
   * `service` takes the direct messages to the instance's Service actor (commands); `instance` takes the
   * activities for the Service actor about peering and peers' directories, before any group handler sees them.
   */
  constructor(
    private readonly table: HandlerTable,
    private readonly service: ServiceInbox | null = null,
    private readonly instance: InstanceHandlerTable = {},
  ) {}

  /** Handles one activity; `inboxGroup` is the group whose inbox received it, or null for the shared inbox. */
  async handle(a: InboundActivity, inboxGroup: string | null): Promise<Outcome[]> {
    const forInstance = this.instance[a.kind] as InstanceHandler<InboundActivity> | undefined;
    if (forInstance && (await forInstance.concerns(a))) {
      const plan = await forInstance.verify(a);
      return [plan.ok ? await forInstance.apply(a, plan.value) : { applied: false, reason: plan.error }];
    }
    // The table gives the handler of this kind; TypeScript cannot follow the kind from the value to the table.
    const handler = this.table[a.kind] as Handler<InboundActivity>;
    const own = this.service ? await this.service.handle(a) : null;
    const groups = await handler.groups(a, inboxGroup);
    if (groups.length === 0)
      return [own ?? { applied: false, reason: `${a.kind} does not concern a group here` }];
    const out: Outcome[] = own ? [own] : [];
    for (const group of groups) {
      const plan = await handler.verify(a, group);
      out.push(plan.ok ? await handler.apply(a, group, plan.value) : { applied: false, reason: plan.error });
    }
    return out;
  }
}

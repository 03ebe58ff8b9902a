/**
 * `Announce{Create}` and plain boosts from a group that groups here follow (FEP-d36d): each following group
 * re-shares the post to its members, once whatever brings it (the ids of the re-share derive from the post),
 * and never what it announced itself or holds already (so nothing goes round a loop of groups following each
 * other: whatever came through this group was announced by it). Members who also belong to the followed group
 * get it from there and are left out. Only public posts are re-shared, never those of users banned here.
 */
import type { InboundOf } from '../../activitypub/inbound.parser.ts';
import { idOf, isPublic } from '../../activitypub/vocab.ts';
import type { MemberExclusion } from '../../storage/links.store.ts';
import type { ApObject } from '../../activitypub/vocab.ts';
import { err, ok, type Result } from '../ports.ts';
import type { GroupFollowService } from '../group-follow.service.ts';
import { applied, liveGroup, type Handler, type HandlerDeps } from './handler.ts';

type Announced = InboundOf<'announce-create'> | InboundOf<'announce-boost'>;

interface Plan {
  objectId: string;
  /** The announced Create, to re-share unchanged; null for a boost. */
  activity: ApObject | null;
  boost: boolean;
  except: MemberExclusion;
}

const PAGE = 100;

export function reshareHandler<A extends Announced>(
  d: HandlerDeps & { groupFollows: GroupFollowService },
): Handler<A, Plan> {
  return {
    async groups(a) {
      // The groups here whose follow of the announcer was accepted.
      const names: string[] = [];
      for (let after: string | null = null; ;) {
        const page = await d.store.groupFollows.listFollowsOf(a.actor, after, PAGE);
        if (page.length === 0) return names;
        for (const f of page) if (f.state === 'accepted') names.push(f.groupName);
        after = page[page.length - 1]?.groupName ?? null;
      }
    },
    async verify(a, group): Promise<Result<Plan, string>> {
      if (!(await liveGroup(d, group))) return err(`${group} does not exist`);
      const me = d.urls.group(group);
      const objectId = a.kind === 'announce-create' ? a.post.id : a.objectId;
      const author = a.kind === 'announce-create' ? idOf(a.activity.actor) : null;
      if (author === me || objectId === me || objectId.startsWith(`${me}/`))
        return err(`${a.actor} announced what ${group} sent: not re-shared back`);
      if ((await d.store.moves.getMoveState(group)).movedTo !== null)
        return err(`${group} has moved; it re-shares nothing`);
      if (await d.store.posts.getPost(group, objectId)) return err(`${objectId} is already in ${group}`);
      if (a.kind === 'announce-create') {
        const p = a.post;
        const addressed = [...p.to, ...p.cc, ...a.to, ...a.cc];
        if (!addressed.some(isPublic)) return err(`${objectId} is not public: not re-shared`);
        if (author === null || (p.attributedTo !== null && p.attributedTo !== author))
          return err('the announced Create is not by the author of its post');
        if (await d.store.bans.getActiveBan(group, author, d.now()))
          return err(`${author} is banned from ${group}: not re-shared`);
      }
      const ids = d.urls.reshareIds(group, objectId);
      const announced = a.kind === 'announce-create' && !(await d.store.activities.getActivity(ids.announce));
      // Top-level posts only are boosted, as the group's own posts are.
      const topLevel = a.kind === 'announce-boost' || a.post.inReplyTo === null;
      const boost = topLevel && !(await d.store.activities.getActivity(ids.boost));
      if (!announced && !boost) return err(`${objectId} was re-shared by ${group} already`);
      return ok({
        objectId,
        activity: announced && a.kind === 'announce-create' ? a.activity : null,
        boost,
        except: d.urls.isLocal(a.actor)
          ? { localGroup: d.urls.groupNameOf(a.actor) ?? '' }
          : { remoteGroup: a.actor },
      });
    },
    async apply(a, group, plan) {
      // Members of the followed group get it from there: who they are is read again when it is old.
      if ('remoteGroup' in plan.except) await d.groupFollows.refreshMembers(a.actor).catch(() => undefined);
      await d.events.emit({
        type: 'ObjectReshared',
        group,
        basis: a.id,
        objectId: plan.objectId,
        activity: plan.activity,
        boost: plan.boost,
        except: plan.except,
      });
      const forms = [plan.activity ? 'Announce{Create}' : null, plan.boost ? 'boost' : null].filter(Boolean);
      return applied(`${group} re-shared ${plan.objectId} from ${a.actor} (${forms.join(' and ')})`);
    },
  };
}

/** `Announce{Group}`: only a peer's Service actor sends it (see the instance handlers); it concerns no group. */
export function announceGroupHandler(): Handler<InboundOf<'announce-group'>, never> {
  return {
    async groups() {
      return [];
    },
    async verify() {
      return err('a directory listing is for the instance, not a group');
    },
    async apply() {
      throw new Error('unreachable: no group is concerned');
    },
  };
}

/**
 * The handler of each kind of inbound activity. Its type has one entry per kind of `InboundActivity`, so that
 * the kinds the inbox accepts and the kinds handled here are the same list.
 */
import { acceptFollowHandler } from './accept-follow.handler.ts';
import { addHandler } from './add.handler.ts';
import { blockHandler } from './block.handler.ts';
import { createPostHandler } from './create-post.handler.ts';
import { deleteActorHandler } from './delete-actor.handler.ts';
import { deletePostHandler } from './delete-post.handler.ts';
import { directMessageHandler } from './direct-message.handler.ts';
import { flagHandler } from './flag.handler.ts';
import { followHandler } from './follow.handler.ts';
import { lockHandler } from './lock.handler.ts';
import { rejectFollowHandler } from './reject-follow.handler.ts';
import { removeHandler } from './remove.handler.ts';
import { undoBlockHandler } from './undo-block.handler.ts';
import { undoDeleteHandler } from './undo-delete.handler.ts';
import { undoFollowHandler } from './undo-follow.handler.ts';
import { undoLockHandler } from './undo-lock.handler.ts';
import { undoVoteHandler } from './undo-vote.handler.ts';
import { updateGroupHandler } from './update-group.handler.ts';
import { updatePostHandler } from './update-post.handler.ts';
import { voteHandler } from './vote.handler.ts';
import { announceGroupHandler, reshareHandler } from './reshare.handler.ts';
import type { HandlerDeps, HandlerTable } from './handler.ts';

export function handlerTable(d: HandlerDeps): HandlerTable {
  return {
    follow: followHandler(d),
    'undo-follow': undoFollowHandler(d),
    'create-post': createPostHandler(d),
    'direct-message': directMessageHandler(d),
    'update-post': updatePostHandler(d),
    'update-group': updateGroupHandler(d),
    'delete-post': deletePostHandler(d),
    'delete-actor': deleteActorHandler(d),
    'undo-delete': undoDeleteHandler(d),
    like: voteHandler(d),
    dislike: voteHandler(d),
    'undo-vote': undoVoteHandler(d),
    'accept-follow': acceptFollowHandler(d),
    'reject-follow': rejectFollowHandler(d),
    flag: flagHandler(d),
    block: blockHandler(d),
    'undo-block': undoBlockHandler(d),
    add: addHandler(d),
    remove: removeHandler(d),
    lock: lockHandler(d),
    'undo-lock': undoLockHandler(d),
    'announce-create': reshareHandler(d),
    'announce-boost': reshareHandler(d),
    'announce-group': announceGroupHandler(),
  };
}

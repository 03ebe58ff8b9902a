/**
 * Sends one activity now, signed by the instance's Service actor, without storing or queueing it: for direct
 * messages that hold a secret (a sign-in link, a deletion code), which must never be written to the store. The
 * same rules as a queued delivery apply (blocked domains refused, never to this server, forbidden addresses
 * refused by the client); a failure is logged with its reason and not retried: the link expires within
 * minutes, and the person asks for another.
 */
import type { ApObject } from '../activitypub/vocab.ts';
import { INSTANCE_KEY_OWNER, type Urls } from '../activitypub/urls.ts';
import type { Store } from '../storage/store.ts';
import type { Logger } from '../log.ts';
import type { DeliveryResponse } from './delivery.client.ts';
import type { ImmediateSender } from './outbound/service-message.ts';

export interface ImmediateSenderDeps {
  store: Store;
  urls: Urls;
  /** Signed POSTs (`DeliveryClient`). */
  client: {
    post(
      inbox: string,
      body: string,
      signer: { keyId: string; privateKeyPem: string },
    ): Promise<DeliveryResponse>;
  };
  isBlocked(host: string): Promise<boolean>;
  log: Logger;
}

export class SignedImmediateSender implements ImmediateSender {
  constructor(private readonly d: ImmediateSenderDeps) {}

  /** Posts `activity` to `inbox`; true when the inbox took it (2xx). */
  async sendNow(activity: ApObject, inbox: string): Promise<boolean> {
    const what = { activityId: activity.id, inbox };
    if (!URL.canParse(inbox)) {
      this.d.log.warn('direct message not sent: bad inbox URL', what);
      return false;
    }
    const url = new URL(inbox);
    if (url.origin === this.d.urls.origin) {
      this.d.log.warn('direct message not sent: the inbox is on this server', what);
      return false;
    }
    if (await this.d.isBlocked(url.hostname)) {
      this.d.log.info('direct message not sent: the destination domain is blocked', what);
      return false;
    }
    const key = await this.d.store.keys.getPrivateKey(INSTANCE_KEY_OWNER);
    if (!key) {
      this.d.log.error('direct message not sent: the instance has no key', what);
      return false;
    }
    const res = await this.d.client.post(inbox, JSON.stringify(activity), {
      keyId: this.d.urls.instanceKeyId(),
      privateKeyPem: key,
    });
    if (res.kind === 'status' && res.status >= 200 && res.status < 300) return true;
    this.d.log.warn('direct message not delivered', {
      ...what,
      reason: res.kind === 'status' ? `HTTP ${res.status}` : res.error,
    });
    return false;
  }
}

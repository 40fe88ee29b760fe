/** The orchestrator's notifications for one config: transitions in, batched, delivered. */
import type { TransitionListener } from '../activity/tracker.js';
import type { EnnioConfig } from '../config/schema.js';
import type { Env } from '../core/request-env.js';
import { NotificationBatcher } from './batcher.js';
import { deliver, type DeliveryLog } from './deliver.js';

export class Notifier {
  private readonly batcher: NotificationBatcher;
  private readonly inflight = new Set<Promise<void>>();

  constructor(
    config: EnnioConfig,
    private env: Env,
    private readonly log: DeliveryLog,
  ) {
    this.batcher = new NotificationBatcher(config.notifications, config.notify, (rule, notice) => {
      const job = deliver(rule, notice, this.env, this.log).finally(() => this.inflight.delete(job));
      this.inflight.add(job);
    });
  }

  /** The config or the caller's environment changed: use the new ones from now on. */
  update(config: EnnioConfig, env: Env): void {
    this.batcher.update(config.notifications, config.notify);
    this.env = env;
  }

  readonly listener: TransitionListener = (t) => this.batcher.push(t);

  /** Send what is pending and wait for deliveries in flight (orchestrator stop). */
  async close(limitMs = 5000): Promise<void> {
    this.batcher.flush();
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<void>((r) => (timer = setTimeout(r, limitMs)));
    await Promise.race([Promise.all([...this.inflight]), limit]);
    clearTimeout(timer);
  }
}

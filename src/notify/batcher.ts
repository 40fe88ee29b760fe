/**
 * Debounce and burst: changes wait `debounce` ms; a session that changes again meanwhile
 * keeps only its latest change (a question answered within seconds pings nobody); when the
 * window closes, a rule with `burst` or more notices due sends one summary instead.
 */
import type { Transition } from '../activity/tracker.js';
import type { NotificationRule, NotifySettings } from '../config/schema.js';
import { noticeOf, ruleWants, summaryOf, type ActivityNotice, type Notice } from './events.js';

export type Send = (rule: NotificationRule, notice: Notice) => void;

export class NotificationBatcher {
  private readonly pending = new Map<string, { notice: ActivityNotice; rules: NotificationRule[] }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private rules: readonly NotificationRule[],
    private settings: NotifySettings,
    private readonly send: Send,
  ) {}

  /** A config was edited: new rules for what comes next. */
  update(rules: readonly NotificationRule[], settings: NotifySettings): void {
    this.rules = rules;
    this.settings = settings;
  }

  push(t: Transition): void {
    const rules = this.rules.filter((r) => ruleWants(r, t));
    // The latest change of a session replaces what it had pending, wanted or not.
    if (rules.length === 0) {
      this.pending.delete(t.session.id);
      return;
    }
    this.pending.set(t.session.id, { notice: noticeOf(t), rules });
    this.timer ??= setTimeout(() => this.flush(), this.settings.debounce);
  }

  /** Send what is due now (also called when the orchestrator stops). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const due = [...this.pending.values()];
    this.pending.clear();
    const byRule = new Map<NotificationRule, ActivityNotice[]>();
    for (const { notice, rules } of due) for (const r of rules) byRule.set(r, [...(byRule.get(r) ?? []), notice]);
    for (const [rule, notices] of byRule) {
      if (notices.length >= this.settings.burst) this.send(rule, summaryOf(notices));
      else for (const n of notices) this.send(rule, n);
    }
  }
}

/**
 * Which build a daemon should run, and what the user must hear about it. Our own bundle
 * is identified by its sha256 (the daemon's build id) and upgraded when it differs. A
 * configured ennio_binary_path is not ours to replace: a version other than ours is
 * reported once per build, and only a bundle of ours uploaded in its place (the binary
 * was missing) is upgraded.
 */
import { bundleIfAny, probe, type DeployTarget, type Program } from './deploy.js';
import type { HeartbeatInfo } from './node-client.js';

export interface BuildVerdict {
  /** The build id the daemon should run; undefined = keep whatever runs. */
  wanted?: string;
  /** What to tell the user (once per build). */
  note?: string;
}

export class BuildPolicy {
  /** With ennio_binary_path: we uploaded our bundle because the binary was missing. */
  private uploadedInstead = false;
  /** Build ids of a configured binary whose version mismatch was already reported. */
  private readonly versionReported = new Set<string>();

  constructor(
    private readonly target: DeployTarget,
    private readonly label: string,
    /** The version a configured binary should report ('dev', i.e. running from source, skips the check). */
    private readonly expectedVersion: string,
    private readonly warn: (message: string) => void,
  ) {}

  /** Whether a healthy daemon can be used as it is, without looking at the remote (no SSH round trip). */
  keepWithoutLook(hb: HeartbeatInfo): boolean {
    if (!this.configuredBinaryRuns()) return this.runsOurBundle(hb);
    // A configured binary: a version mismatch needs a look (is it the binary, or an upload of ours?).
    return this.versionMatches(hb) || this.versionReported.has(hb.buildId);
  }

  /** Which build the daemon should run, and what to tell the user. */
  async verdict(hb: HeartbeatInfo): Promise<BuildVerdict> {
    const sha = this.bundleSha();
    if (this.target.binaryPath === undefined) return sha === undefined ? {} : { wanted: sha };
    if (this.versionMatches(hb)) return {};
    // With a mismatch, find out whether the running daemon is the configured binary or
    // a bundle of ours uploaded because the binary was missing (that one we upgrade).
    const p = await probe(this.target);
    if (p.customBinary === undefined && sha !== undefined) return { wanted: sha };
    return { note: this.versionNote(hb) };
  }

  /** Remembered before the start: what runs from now on is the configured binary or our bundle. */
  starting(program: Program): void {
    this.uploadedInstead = this.target.binaryPath !== undefined && program.style === 'bundle';
  }

  /** A configured binary we just started: say it when its version is not ours. */
  started(program: Program, hb: HeartbeatInfo): void {
    if (program.style === 'binary' && !this.versionMatches(hb)) this.reportOnce(hb, this.versionNote(hb));
  }

  reportOnce(hb: HeartbeatInfo, note: string): void {
    if (this.versionReported.has(hb.buildId)) return;
    this.versionReported.add(hb.buildId);
    this.warn(note);
  }

  /** For `ennio node status`: whether the running daemon is current, judged from the heartbeat alone. */
  currentForStatus(hb: HeartbeatInfo): { current: boolean; note?: string } {
    if (!this.configuredBinaryRuns()) return { current: this.runsOurBundle(hb) };
    // Only reported here: `status` must not look further than the heartbeat needs.
    return this.versionMatches(hb)
      ? { current: true }
      : { current: false, note: `version ${hb.version} differs from this ennio's ${this.expectedVersion}; ennio does not upgrade a configured ennio_binary_path` };
  }

  private configuredBinaryRuns(): boolean {
    return this.target.binaryPath !== undefined && !this.uploadedInstead;
  }

  private runsOurBundle(hb: HeartbeatInfo): boolean {
    const wanted = this.bundleSha();
    return wanted === undefined || hb.buildId === wanted;
  }

  private versionMatches(hb: HeartbeatInfo): boolean {
    return this.expectedVersion === 'dev' || hb.version === this.expectedVersion;
  }

  private versionNote(hb: HeartbeatInfo): string {
    return (
      `ennio-node on ${this.label} (node_config.ennio_binary_path ${this.target.binaryPath ?? ''}) reports version ${hb.version || '(none)'}, ` +
      `but this ennio is ${this.expectedVersion}. ennio does not upgrade a configured binary: install ennio-node ${this.expectedVersion} there, ` +
      'or remove ennio_binary_path to let ennio upload its own'
    );
  }

  /** sha256 of the bundle we deploy; undefined when no bundle is at hand (then nothing is upgraded). */
  private bundleSha(): string | undefined {
    return bundleIfAny(this.target)?.sha256; // deploy() will report the missing bundle if it must
  }
}

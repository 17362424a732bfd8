/** Where local Application Auto Scaling keeps its scalable targets and its scaling activities (newest first). */
import type { ScalingActivity, Target } from './models';

export class AutoScalingStore {
  readonly targets = new Map<string, Target>();
  private readonly activities: ScalingActivity[] = [];
  private activitySeq = 0;

  record(activity: ScalingActivity): void {
    this.activities.unshift(activity);
  }

  /** Unique and sortable by time, as AWS's are unique. */
  nextActivityId(now: number): string {
    return `${now.toString(16)}-${(this.activitySeq++).toString(16).padStart(6, '0')}`;
  }

  scalingActivities(): readonly ScalingActivity[] {
    return this.activities;
  }
}

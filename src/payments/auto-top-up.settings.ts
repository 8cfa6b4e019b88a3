/** The deployment's guards on automatic charges. */
export interface AutoTopUpSettings {
  /** At most this many top-ups per wallet in any 24 hours. */
  dailyLimit: number;
  /** The wait before a declined top-up is tried again; it doubles with each further attempt. */
  retryDelaySeconds: number;
  /** Whether top-ups earn the purchase bonus tiers like manual purchases. */
  bonus: boolean;
}

export const DEFAULT_AUTO_TOP_UP_SETTINGS: AutoTopUpSettings = { dailyLimit: 10, retryDelaySeconds: 300, bonus: false };

// Original file: ../../candor/v1/candor.proto

export const ChallengeOutcome = {
  CHALLENGE_OUTCOME_UNSPECIFIED: 'CHALLENGE_OUTCOME_UNSPECIFIED',
  CHALLENGE_OUTCOME_PASS: 'CHALLENGE_OUTCOME_PASS',
  CHALLENGE_OUTCOME_FAIL: 'CHALLENGE_OUTCOME_FAIL',
  CHALLENGE_OUTCOME_INCONCLUSIVE: 'CHALLENGE_OUTCOME_INCONCLUSIVE',
} as const;

export type ChallengeOutcome =
  | 'CHALLENGE_OUTCOME_UNSPECIFIED'
  | 0
  | 'CHALLENGE_OUTCOME_PASS'
  | 1
  | 'CHALLENGE_OUTCOME_FAIL'
  | 2
  | 'CHALLENGE_OUTCOME_INCONCLUSIVE'
  | 3

export type ChallengeOutcome__Output = typeof ChallengeOutcome[keyof typeof ChallengeOutcome]

// Original file: ../../candor/v1/candor.proto

export const ChallengeKind = {
  CHALLENGE_KIND_UNSPECIFIED: 'CHALLENGE_KIND_UNSPECIFIED',
  CHALLENGE_KIND_TURN_HEAD: 'CHALLENGE_KIND_TURN_HEAD',
  CHALLENGE_KIND_LOOK_UP: 'CHALLENGE_KIND_LOOK_UP',
  CHALLENGE_KIND_COVER_FACE: 'CHALLENGE_KIND_COVER_FACE',
  CHALLENGE_KIND_BLINK: 'CHALLENGE_KIND_BLINK',
} as const;

export type ChallengeKind =
  | 'CHALLENGE_KIND_UNSPECIFIED'
  | 0
  | 'CHALLENGE_KIND_TURN_HEAD'
  | 1
  | 'CHALLENGE_KIND_LOOK_UP'
  | 2
  | 'CHALLENGE_KIND_COVER_FACE'
  | 3
  | 'CHALLENGE_KIND_BLINK'
  | 4

export type ChallengeKind__Output = typeof ChallengeKind[keyof typeof ChallengeKind]

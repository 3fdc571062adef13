// Original file: ../../candor/v1/candor.proto

import type { ChallengeKind as _candor_v1_ChallengeKind, ChallengeKind__Output as _candor_v1_ChallengeKind__Output } from '../../candor/v1/ChallengeKind';

export interface ChallengeRequest {
  'sessionId'?: (string);
  'kind'?: (_candor_v1_ChallengeKind);
  'windowMs'?: (number);
  '_windowMs'?: "windowMs";
}

export interface ChallengeRequest__Output {
  'sessionId': (string);
  'kind': (_candor_v1_ChallengeKind__Output);
  'windowMs'?: (number);
  '_windowMs'?: "windowMs";
}

// Original file: ../../candor/v1/candor.proto

import type { ChallengeKind as _candor_v1_ChallengeKind, ChallengeKind__Output as _candor_v1_ChallengeKind__Output } from '../../candor/v1/ChallengeKind';
import type { ChallengeOutcome as _candor_v1_ChallengeOutcome, ChallengeOutcome__Output as _candor_v1_ChallengeOutcome__Output } from '../../candor/v1/ChallengeOutcome';
import type { Measurement as _candor_v1_Measurement, Measurement__Output as _candor_v1_Measurement__Output } from '../../candor/v1/Measurement';
import type { Long } from '@grpc/proto-loader';

export interface ChallengeResult {
  'sessionId'?: (string);
  'challengeId'?: (string);
  'kind'?: (_candor_v1_ChallengeKind);
  'outcome'?: (_candor_v1_ChallengeOutcome);
  'startUs'?: (number | string | Long);
  'endUs'?: (number | string | Long);
  'measurements'?: (_candor_v1_Measurement)[];
  'message'?: (string);
}

export interface ChallengeResult__Output {
  'sessionId': (string);
  'challengeId': (string);
  'kind': (_candor_v1_ChallengeKind__Output);
  'outcome': (_candor_v1_ChallengeOutcome__Output);
  'startUs': (string);
  'endUs': (string);
  'measurements': (_candor_v1_Measurement__Output)[];
  'message': (string);
}

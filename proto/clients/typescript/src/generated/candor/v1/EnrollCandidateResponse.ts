// Original file: ../../candor/v1/candor.proto

import type { ModelInfo as _candor_v1_ModelInfo, ModelInfo__Output as _candor_v1_ModelInfo__Output } from '../../candor/v1/ModelInfo';
import type { IdentityMatch as _candor_v1_IdentityMatch, IdentityMatch__Output as _candor_v1_IdentityMatch__Output } from '../../candor/v1/IdentityMatch';

export interface EnrollCandidateResponse {
  'candidateRef'?: (string);
  'model'?: (_candor_v1_ModelInfo | null);
  'matches'?: (_candor_v1_IdentityMatch)[];
}

export interface EnrollCandidateResponse__Output {
  'candidateRef': (string);
  'model': (_candor_v1_ModelInfo__Output | null);
  'matches': (_candor_v1_IdentityMatch__Output)[];
}

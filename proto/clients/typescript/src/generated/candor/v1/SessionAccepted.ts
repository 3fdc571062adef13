// Original file: ../../candor/v1/candor.proto

import type { EffectiveSettings as _candor_v1_EffectiveSettings, EffectiveSettings__Output as _candor_v1_EffectiveSettings__Output } from '../../candor/v1/EffectiveSettings';
import type { ModelInfo as _candor_v1_ModelInfo, ModelInfo__Output as _candor_v1_ModelInfo__Output } from '../../candor/v1/ModelInfo';

export interface SessionAccepted {
  'sessionId'?: (string);
  'settings'?: (_candor_v1_EffectiveSettings | null);
  'models'?: (_candor_v1_ModelInfo)[];
  'executionProvider'?: (string);
}

export interface SessionAccepted__Output {
  'sessionId': (string);
  'settings': (_candor_v1_EffectiveSettings__Output | null);
  'models': (_candor_v1_ModelInfo__Output)[];
  'executionProvider': (string);
}

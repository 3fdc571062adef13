// Original file: ../../candor/v1/candor.proto

import type { ModelInfo as _candor_v1_ModelInfo, ModelInfo__Output as _candor_v1_ModelInfo__Output } from '../../candor/v1/ModelInfo';
import type { MediaFormat as _candor_v1_MediaFormat, MediaFormat__Output as _candor_v1_MediaFormat__Output } from '../../candor/v1/MediaFormat';
import type { EffectiveSettings as _candor_v1_EffectiveSettings, EffectiveSettings__Output as _candor_v1_EffectiveSettings__Output } from '../../candor/v1/EffectiveSettings';

export interface InfoResponse {
  'version'?: (string);
  'models'?: (_candor_v1_ModelInfo)[];
  'executionProvider'?: (string);
  'maxSessions'?: (number);
  'openSessions'?: (number);
  'maxMessageBytes'?: (number);
  'maxFramePixels'?: (number);
  'formats'?: (_candor_v1_MediaFormat)[];
  'defaults'?: (_candor_v1_EffectiveSettings | null);
}

export interface InfoResponse__Output {
  'version': (string);
  'models': (_candor_v1_ModelInfo__Output)[];
  'executionProvider': (string);
  'maxSessions': (number);
  'openSessions': (number);
  'maxMessageBytes': (number);
  'maxFramePixels': (number);
  'formats': (_candor_v1_MediaFormat__Output)[];
  'defaults': (_candor_v1_EffectiveSettings__Output | null);
}

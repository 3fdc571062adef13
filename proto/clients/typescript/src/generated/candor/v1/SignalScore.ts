// Original file: ../../candor/v1/candor.proto

import type { ModelInfo as _candor_v1_ModelInfo, ModelInfo__Output as _candor_v1_ModelInfo__Output } from '../../candor/v1/ModelInfo';

export interface SignalScore {
  'name'?: (string);
  'mean'?: (number | string);
  'median'?: (number | string);
  'min'?: (number | string);
  'max'?: (number | string);
  'frames'?: (number);
  'model'?: (_candor_v1_ModelInfo | null);
}

export interface SignalScore__Output {
  'name': (string);
  'mean': (number);
  'median': (number);
  'min': (number);
  'max': (number);
  'frames': (number);
  'model': (_candor_v1_ModelInfo__Output | null);
}

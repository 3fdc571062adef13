// Original file: ../../candor/v1/candor.proto


export interface EffectiveSettings {
  'sampleFps'?: (number | string);
  'segmentMs'?: (number);
  'maxSide'?: (number);
  'maxFrameBytes'?: (number);
  'idleTimeoutS'?: (number);
  'maxSessionS'?: (number);
}

export interface EffectiveSettings__Output {
  'sampleFps': (number);
  'segmentMs': (number);
  'maxSide': (number);
  'maxFrameBytes': (number);
  'idleTimeoutS': (number);
  'maxSessionS': (number);
}

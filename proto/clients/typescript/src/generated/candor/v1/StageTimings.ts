// Original file: ../../candor/v1/candor.proto


export interface StageTimings {
  'analysisMs'?: (number | string);
  'resultLatencyMs'?: (number | string);
}

export interface StageTimings__Output {
  'analysisMs': (number);
  'resultLatencyMs': (number);
}

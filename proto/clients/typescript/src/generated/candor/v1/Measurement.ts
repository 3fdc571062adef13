// Original file: ../../candor/v1/candor.proto


export interface Measurement {
  'name'?: (string);
  'value'?: (number | string);
}

export interface Measurement__Output {
  'name': (string);
  'value': (number);
}

// Original file: ../../candor/v1/candor.proto


export interface ModelInfo {
  'name'?: (string);
  'version'?: (string);
}

export interface ModelInfo__Output {
  'name': (string);
  'version': (string);
}

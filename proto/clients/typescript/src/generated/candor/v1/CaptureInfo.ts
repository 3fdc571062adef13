// Original file: ../../candor/v1/candor.proto


export interface CaptureInfo {
  'deviceLabel'?: (string);
  'platform'?: (string);
  'clientVersion'?: (string);
}

export interface CaptureInfo__Output {
  'deviceLabel': (string);
  'platform': (string);
  'clientVersion': (string);
}

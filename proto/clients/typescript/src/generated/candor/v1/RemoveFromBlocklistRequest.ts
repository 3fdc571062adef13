// Original file: ../../candor/v1/candor.proto


export interface RemoveFromBlocklistRequest {
  'entryId'?: (string);
}

export interface RemoveFromBlocklistRequest__Output {
  'entryId': (string);
}

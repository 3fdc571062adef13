// Original file: ../../candor/v1/candor.proto


export interface MediaChunk {
  'data'?: (Buffer | Uint8Array | string);
}

export interface MediaChunk__Output {
  'data': (Buffer);
}

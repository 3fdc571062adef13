// Original file: ../../candor/v1/candor.proto

import type { Long } from '@grpc/proto-loader';

export interface VideoFrame {
  'ptsUs'?: (number | string | Long);
  'data'?: (Buffer | Uint8Array | string);
  'width'?: (number);
  'height'?: (number);
  'stride'?: (number);
  'rotation'?: (number);
}

export interface VideoFrame__Output {
  'ptsUs': (string);
  'data': (Buffer);
  'width': (number);
  'height': (number);
  'stride': (number);
  'rotation': (number);
}

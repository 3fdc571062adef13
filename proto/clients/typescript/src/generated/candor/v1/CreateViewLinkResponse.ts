// Original file: ../../candor/v1/candor.proto

import type { Long } from '@grpc/proto-loader';

export interface CreateViewLinkResponse {
  'linkId'?: (string);
  'token'?: (string);
  'path'?: (string);
  'url'?: (string);
  'expiresAtUnixS'?: (number | string | Long);
}

export interface CreateViewLinkResponse__Output {
  'linkId': (string);
  'token': (string);
  'path': (string);
  'url': (string);
  'expiresAtUnixS': (string);
}

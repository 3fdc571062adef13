// Original file: ../../candor/v1/candor.proto

import type { Long } from '@grpc/proto-loader';

export interface BlocklistEntry {
  'entryId'?: (string);
  'label'?: (string);
  'reason'?: (string);
  'candidateRef'?: (string);
  'sourceSession'?: (string);
  'addedAtMs'?: (number | string | Long);
  'model'?: (string);
  '_candidateRef'?: "candidateRef";
  '_sourceSession'?: "sourceSession";
}

export interface BlocklistEntry__Output {
  'entryId': (string);
  'label': (string);
  'reason': (string);
  'candidateRef'?: (string);
  'sourceSession'?: (string);
  'addedAtMs': (string);
  'model': (string);
  '_candidateRef'?: "candidateRef";
  '_sourceSession'?: "sourceSession";
}

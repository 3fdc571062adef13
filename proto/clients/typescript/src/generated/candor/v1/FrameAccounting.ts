// Original file: ../../candor/v1/candor.proto


export interface FrameAccounting {
  'received'?: (number);
  'decoded'?: (number);
  'analysed'?: (number);
  'dropped'?: (number);
  'oneFace'?: (number);
  'noFace'?: (number);
  'severalFaces'?: (number);
  'usable'?: (number);
  'undecodable'?: (number);
}

export interface FrameAccounting__Output {
  'received': (number);
  'decoded': (number);
  'analysed': (number);
  'dropped': (number);
  'oneFace': (number);
  'noFace': (number);
  'severalFaces': (number);
  'usable': (number);
  'undecodable': (number);
}

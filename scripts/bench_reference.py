"""The usual alternative to Candor, for `scripts/bench` to compare against: the same
models with the same preprocessing and the same sampling, written the way a Python
team would (OpenCV decode, onnxruntime sessions, numpy), one process, one thread per
session. It decodes every frame; at 2 frames a second it finds the face (YuNet at a
640 px working size) and runs the MiniFASNet pair, Meso4 DF and F2F and the face mesh
on it; between those it looks at the eyes 15 times a second (the face mesh alone, on
the last face); once a second it embeds the face (SFace). It computes none of Candor's
other measures (quality, blending, motion, pulse, head pose, fusion, segments), so it
does less work than Candor does.

With --lean it does the model work Candor's defaults do on a clear stream instead: no
glances, and Meso4 DF only (the classifier the fusion reads).

Usage: bench_reference.py VIDEO MODELS_DIR [--lean]  -> one JSON object on stdout.
"""

import json
import math
import resource
import sys
import time

import cv2
import numpy as np
import onnxruntime as ort

SAMPLE_FPS = 2.0
GLANCE_FPS = 15.0
IDENTITY_EVERY_S = 1.0
MAX_SIDE = 640
# The ArcFace 112x112 template SFace was trained on, in YuNet's landmark order.
ARCFACE = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
     [41.5493, 92.3655], [70.7299, 92.2041]], dtype=np.float64)


def session(path):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    # As Candor: idle threads do not spin (they would take cores from other sessions).
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])


def detect(yunet, frame, threshold=0.6, nms_iou=0.3):
    """YuNet on a working-size BGR frame: padded to multiples of 32, raw 0-255."""
    h, w = frame.shape[:2]
    ph, pw = math.ceil(h / 32) * 32, math.ceil(w / 32) * 32
    blob = np.zeros((1, 3, ph, pw), np.float32)
    blob[0, :, :h, :w] = frame.transpose(2, 0, 1)
    out = dict(zip([o.name for o in yunet.get_outputs()], yunet.run(None, {"input": blob})))
    boxes, scores, kps_all = [], [], []
    for s in (8, 16, 32):
        cols = pw // s
        score = np.sqrt(np.clip(out[f"cls_{s}"][0, :, 0] * out[f"obj_{s}"][0, :, 0], 0, 1))
        keep = np.nonzero(score >= threshold)[0]
        for i in keep:
            r, c = divmod(int(i), cols)
            b = out[f"bbox_{s}"][0, i]
            cx, cy = (c + b[0]) * s, (r + b[1]) * s
            bw, bh = math.exp(b[2]) * s, math.exp(b[3]) * s
            k = out[f"kps_{s}"][0, i]
            boxes.append([cx - bw / 2, cy - bh / 2, bw, bh])
            scores.append(float(score[i]))
            kps_all.append([((c + k[2 * j]) * s, (r + k[2 * j + 1]) * s) for j in range(5)])
    if not boxes:
        return None
    picked = cv2.dnn.NMSBoxes(boxes, scores, threshold, nms_iou)
    best = int(np.array(picked).reshape(-1)[0])
    return np.array(boxes[best]), np.array(kps_all[best])


def liveness(models, frame, box):
    """MiniFASNet V2 (scale 2.7) and V1SE (4.0): enlarged box shifted inside the frame,
    80x80, BGR raw 0-255; the mean of the two softmaxes, class 1 = live."""
    h, w = frame.shape[:2]
    x, y, bw, bh = box
    fused = np.zeros(3)
    for sess, scale in models:
        s = min(scale, (h - 1) / bh, (w - 1) / bw)
        nw, nh = bw * s, bh * s
        cx, cy = x + bw / 2, y + bh / 2
        x0 = min(max(cx - nw / 2, 0), w - 1 - nw)
        y0 = min(max(cy - nh / 2, 0), h - 1 - nh)
        crop = frame[int(y0):int(y0 + nh) + 1, int(x0):int(x0 + nw) + 1]
        crop = cv2.resize(crop, (80, 80), interpolation=cv2.INTER_LINEAR)
        logits = sess.run(None, {"input": crop.transpose(2, 0, 1)[None].astype(np.float32)})[0][0]
        e = np.exp(logits - logits.max())
        fused += e / e.sum() / 2
    return float(fused[1])


def rotated_square(frame, cx, cy, side, angle_rad, out_side, border):
    """The square of `side` px centred at (cx, cy), turned by `angle_rad`, resampled to
    out_side x out_side (bilinear)."""
    scale = out_side / side
    m = cv2.getRotationMatrix2D((cx, cy), math.degrees(angle_rad), scale)
    m[0, 2] += out_side / 2 - cx
    m[1, 2] += out_side / 2 - cy
    return cv2.warpAffine(frame, m, (out_side, out_side), flags=cv2.INTER_LINEAR,
                          borderMode=border)


def forgery(sess, frame, kps):
    """Meso4: side 2.86 x max(eye distance, eyes-to-mouth), centred on the nose,
    upright, 256x256, RGB 0-1; output fake_prob."""
    eyes = (kps[0] + kps[1]) / 2
    mouth = (kps[3] + kps[4]) / 2
    size = max(np.linalg.norm(kps[1] - kps[0]), np.linalg.norm(mouth - eyes))
    crop = rotated_square(frame, kps[2][0], kps[2][1], 2.86 * size, 0.0, 256,
                          cv2.BORDER_REPLICATE)
    blob = cv2.cvtColor(crop, cv2.COLOR_BGR2RGB).transpose(2, 0, 1)[None].astype(np.float32) / 255
    outputs = sess.run(["fake_prob"], {"input": blob})
    return float(outputs[0][0, 0])


def mesh(sess, frame, box, kps):
    """MediaPipe face mesh: square of 1.5 x the box's longer side about its centre,
    turned along the eye line, 192x192, RGB 0-1."""
    x, y, bw, bh = box
    angle = math.atan2(kps[1][1] - kps[0][1], kps[1][0] - kps[0][0])
    crop = rotated_square(frame, x + bw / 2, y + bh / 2, 1.5 * max(bw, bh), angle, 192,
                          cv2.BORDER_REPLICATE)
    blob = cv2.cvtColor(crop, cv2.COLOR_BGR2RGB).transpose(2, 0, 1)[None].astype(np.float32) / 255
    return sess.run(None, {"input_1": blob})[0]


def umeyama(src, dst):
    """Least-squares similarity transform (rotation, uniform scale, translation)."""
    ms, md = src.mean(0), dst.mean(0)
    s, d = src - ms, dst - md
    u, sig, vt = np.linalg.svd(d.T @ s / len(src))
    e = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        e[1, 1] = -1
    r = u @ e @ vt
    scale = (sig * np.diag(e)).sum() / s.var(0).sum()
    return np.hstack([scale * r, (md - scale * r @ ms)[:, None]])


def embed(sess, frame, kps):
    """SFace: 5-point similarity alignment to the ArcFace template, 112x112, RGB raw."""
    m = umeyama(kps.astype(np.float64), ARCFACE)
    crop = cv2.warpAffine(frame, m, (112, 112), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    blob = cv2.cvtColor(crop, cv2.COLOR_BGR2RGB).transpose(2, 0, 1)[None].astype(np.float32)
    v = sess.run(None, {"data": blob})[0][0]
    return v / np.linalg.norm(v)


def main():
    video, models = sys.argv[1], sys.argv[2].rstrip("/") + "/weights/"
    lean = "--lean" in sys.argv[3:]
    glance_fps = 0.0 if lean else GLANCE_FPS
    cv2.setNumThreads(1)
    start = time.perf_counter()
    yunet = session(models + "yunet_s_dynamic.onnx")
    live = [(session(models + "minifasnet_v2.onnx"), 2.7),
            (session(models + "minifasnet_v1se.onnx"), 4.0)]
    meso = [session(models + "deepfake_meso4_df.onnx")]
    if not lean:
        meso.append(session(models + "deepfake_meso4_f2f.onnx"))
    face_mesh = session(models + "mediapipe_face_landmark_468.onnx")
    sface = session(models + "sface_2021dec_dequant_fp32.onnx")
    load_s = time.perf_counter() - start

    cap = cv2.VideoCapture(video, cv2.CAP_FFMPEG, [cv2.CAP_PROP_N_THREADS, 1])
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    counts = dict(decoded=0, analysed=0, faces=0, glances=0, embeddings=0)
    next_sample = next_glance = next_identity = 0.0
    last_face = None
    live_scores, fake_scores = [], []
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        t = counts["decoded"] / fps
        counts["decoded"] += 1
        sampled = t >= next_sample
        glance = glance_fps > 0 and not sampled and t >= next_glance and last_face is not None
        if not (sampled or glance):
            continue
        h, w = frame.shape[:2]
        k = MAX_SIDE / max(w, h)
        work = cv2.resize(frame, (round(w * k), round(h * k)), interpolation=cv2.INTER_LINEAR) if k < 1 else frame
        if sampled:
            next_sample += 1 / SAMPLE_FPS
            counts["analysed"] += 1
            face = detect(yunet, work)
            if face is None:
                continue
            counts["faces"] += 1
            box, kps = face
            last_face = face
            live_scores.append(liveness(live, work, box))
            fake_scores.append([forgery(sess, work, kps) for sess in meso])
            mesh(face_mesh, work, box, kps)
            if t >= next_identity:
                next_identity += IDENTITY_EVERY_S
                embed(sface, work, kps)
                counts["embeddings"] += 1
        else:
            next_glance += 1 / glance_fps
            counts["glances"] += 1
            mesh(face_mesh, work, *last_face)
    wall = time.perf_counter() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    video_s = counts["decoded"] / fps
    print(json.dumps({
        "video_s": video_s, "wall_s": wall, "cpu_s": cpu, "model_load_s": load_s,
        "x_realtime": video_s / wall, "cpu_s_per_video_s": cpu / video_s,
        "work": "lean" if lean else "full",
        "versions": {"onnxruntime": ort.__version__, "opencv": cv2.__version__,
                     "numpy": np.__version__},
        # Read against Candor's figures for the same file, to show the same work was done.
        "mean_liveness": float(np.mean(live_scores)) if live_scores else None,
        "mean_meso4_fake": np.mean(fake_scores, 0).tolist() if fake_scores else None,
        **counts,
    }))


if __name__ == "__main__":
    main()

"""Read a user's own detection labels (Pascal VOC XML or COCO JSON) into the layout of make_scenes.

Both loaders return a dict with
    "images": float32 (N, H, W, 3) in [0, 1] (gray pictures are repeated on R, G and B);
    "boxes": list of N float32 arrays (k_i, 4), pixel corner coordinates (x1, y1, x2, y2);
    "labels": list of N int64 arrays (k_i,), indices into "class_names";
    "class_names": sorted list of the unique class names.
With size=None every image must already have the same height and width; with size given, every image
is resized to (size, size) and its boxes are scaled by size / W along x and size / H along y.
Coordinates are taken as written in the file (VOC's xmin/xmax are not shifted from 1-based).
"""

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np


def load_voc_folder(folder, size=None):
    """Load every <name>.xml (Pascal VOC) in folder, with the image each one names in <filename>.

    Args:
        folder: folder holding the XML files; each image lies next to its XML file.
        size: resize every image to (size, size) and scale its boxes, or None to keep the images as they are.
    Returns:
        dict with "images" (N, H, W, 3) float32, "boxes", "labels", "class_names" (see the module docstring).
    Raises:
        FileNotFoundError: folder missing, or an image named in an XML file missing (the message names it).
        ValueError: no XML file, or an XML file without <filename>, <name> or <bndbox>, a coordinate that is
            not a number, or xmax <= xmin / ymax <= ymin (the message names the file).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder; expected Pascal VOC .xml files next to their images")
    xml_paths = sorted(folder.glob("*.xml"))
    if not xml_paths:
        raise ValueError(f"{folder} holds no .xml files (Pascal VOC annotations)")
    records = []
    for path in xml_paths:
        root = _parse_xml(path)
        filename = root.findtext("filename")
        if not filename:
            raise ValueError(f"{path}: no <filename> naming the image")
        boxes, names = [], []
        for obj in root.iter("object"):
            name, bndbox = obj.findtext("name"), obj.find("bndbox")
            if not name or bndbox is None:
                raise ValueError(f"{path}: every <object> needs a <name> and a <bndbox>")
            coords = [_number(bndbox.findtext(tag), tag, path) for tag in ("xmin", "ymin", "xmax", "ymax")]
            boxes.append(_checked_box(coords, path))
            names.append(name.strip())
        records.append((folder / filename, boxes, names))
    return _assemble(records, size)


def load_coco_json(json_path, image_folder, size=None):
    """Load a COCO-style JSON file: "images" (id, file_name), "annotations" (image_id, category_id,
    bbox [x, y, w, h] in pixels) and "categories" (id, name). Images without annotations are kept.

    Args:
        json_path: path of the JSON file.
        image_folder: folder the "file_name" entries are relative to.
        size: resize every image to (size, size) and scale its boxes, or None.
    Returns:
        dict with "images" (N, H, W, 3) float32, "boxes", "labels", "class_names" (see the module docstring);
        images come in the order of the JSON "images" list, boxes converted to (x, y, x + w, y + h).
    Raises:
        FileNotFoundError: JSON file, image folder or an image missing (the message names it).
        ValueError: a missing key, an unknown image_id or category_id, or a bbox with w <= 0 or h <= 0.
    """
    json_path, image_folder = Path(json_path), Path(image_folder)
    if not json_path.is_file():
        raise FileNotFoundError(f"no COCO JSON file at {json_path}")
    if not image_folder.is_dir():
        raise FileNotFoundError(f"{image_folder} is not a folder; expected the images named in {json_path.name}")
    data = json.loads(json_path.read_text())
    try:
        categories = {c["id"]: str(c["name"]) for c in data["categories"]}
        records = {img["id"]: (image_folder / img["file_name"], [], []) for img in data["images"]}
        for ann in data["annotations"]:
            if ann["image_id"] not in records:
                raise ValueError(f"{json_path}: annotation {ann.get('id')} names unknown image_id {ann['image_id']}")
            if ann["category_id"] not in categories:
                raise ValueError(f"{json_path}: annotation {ann.get('id')} names unknown "
                                 f"category_id {ann['category_id']}")
            x, y, w, h = (float(v) for v in ann["bbox"])
            _, boxes, names = records[ann["image_id"]]
            boxes.append(_checked_box([x, y, x + w, y + h], f"{json_path} (annotation {ann.get('id')})"))
            names.append(categories[ann["category_id"]])
    except KeyError as err:
        raise ValueError(f"{json_path}: missing COCO key {err}") from err
    return _assemble(list(records.values()), size, class_names=sorted(set(categories.values())))


def _parse_xml(path):
    try:
        return ET.parse(path).getroot()
    except ET.ParseError as err:
        raise ValueError(f"{path}: not valid XML ({err})") from err


def _number(text, tag, path):
    try:
        return float(text)
    except (TypeError, ValueError):
        raise ValueError(f"{path}: <bndbox> needs a number in <{tag}>, got {text!r}") from None


def _checked_box(coords, where):
    x1, y1, x2, y2 = coords
    if x2 <= x1 or y2 <= y1:
        raise ValueError(f"{where}: box {coords} needs xmax > xmin and ymax > ymin")
    return coords


def _read_rgb(path):
    """Image file -> float64 (H, W, 3) in [0, 1]."""
    from skimage import io

    from cnncourse.data.images import _to_float_rgb_or_gray

    if not Path(path).is_file():
        raise FileNotFoundError(f"image {path} is named in the annotations but does not exist")
    img = _to_float_rgb_or_gray(io.imread(path))
    return np.stack([img] * 3, axis=-1) if img.ndim == 2 else img


def _assemble(records, size, class_names=None):
    """[(image path, boxes, names)] -> the make_scenes layout, resized to (size, size) if size is given."""
    from skimage import transform

    if size is not None and (isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1):
        raise ValueError(f"size must be an integer >= 1 or None, got {size!r}")
    if not records:
        raise ValueError("the annotations list no images")
    class_names = class_names or sorted({name for _, _, names in records for name in names})
    index = {name: i for i, name in enumerate(class_names)}
    images, all_boxes, all_labels = [], [], []
    for path, boxes, names in records:
        img = _read_rgb(path)
        boxes = np.array(boxes, dtype=np.float64).reshape(-1, 4)
        if size is not None:
            h, w = img.shape[:2]
            img = transform.resize(img, (size, size, 3), anti_aliasing=max(h, w) > size)
            boxes = boxes * np.array([size / w, size / h, size / w, size / h])
        images.append(img)
        all_boxes.append(boxes.astype(np.float32))
        all_labels.append(np.array([index[n] for n in names], dtype=np.int64))
    shapes = {img.shape for img in images}
    if len(shapes) > 1:
        raise ValueError(f"the images have different shapes {sorted(shapes)}; pass size= to resize them all")
    return {"images": np.clip(np.stack(images), 0.0, 1.0).astype(np.float32), "boxes": all_boxes,
            "labels": all_labels, "class_names": class_names}

"""Signing the exported model folder with OpenSSF `model-signing`, offline, with a local elliptic-curve key.

Keyless signing (Sigstore) needs the network and an identity provider; the key mode needs neither: the
private key stays in the learner's folder, whoever holds the public key can verify. The signature covers
every file of the folder (a manifest of SHA-256 digests in a DSSE envelope, Sigstore bundle format), so
changing one byte of one file, or adding or removing a file, makes verification fail.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from workbench.chapters.ch11_post_production.responsible.subject import ResponsibleError, Subject
from workbench.core.records import records_for
from workbench.core.settings import Settings

FOLDER = "ch11_signing"


@dataclass(frozen=True)
class SigningPaths:
    """Where a learner's exported model, its signature and the key pair live."""

    root: Path

    @property
    def model(self) -> Path:
        """The exported MLflow model folder."""
        return self.root / "model"

    @property
    def signature(self) -> Path:
        """The signature (Sigstore bundle JSON), kept beside the folder, not inside it."""
        return self.root / "model.sig"

    @property
    def private_key(self) -> Path:
        """The private key (PEM, readable by its owner only)."""
        return self.root / "signing_key.pem"

    @property
    def public_key(self) -> Path:
        """The public key to hand to whoever verifies."""
        return self.root / "signing_key.pub"


def signing_paths(settings: Settings, learner: str) -> SigningPaths:
    """The learner's signing folder (not created here)."""
    return SigningPaths(records_for(settings, learner).workspace(FOLDER))


def export_model(subject: Subject, settings: Settings, dest: Path) -> Path:
    """Write the subject's model as an MLflow model folder at `dest` (replacing it): the registry version's
    own files, or the course pipeline saved with skops."""
    import mlflow

    if dest.exists():
        shutil.rmtree(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if subject.source == "registry" and subject.version is not None:
        with tempfile.TemporaryDirectory(prefix="workbench-export-") as tmp:
            local = mlflow.artifacts.download_artifacts(
                artifact_uri=f"models:/{subject.model_name or settings.model_name}/{subject.version}",
                dst_path=tmp,
                tracking_uri=settings.mlflow_tracking_uri,
            )
            shutil.copytree(local, dest)
        return dest
    from workbench.core.tracking.store import model_requirements, trusted_types_for

    mlflow.sklearn.save_model(
        subject.model,
        str(dest),
        serialization_format="skops",
        skops_trusted_types=trusted_types_for(subject.model),
        pip_requirements=model_requirements(),
    )
    return dest


def ensure_key_pair(paths: SigningPaths) -> None:
    """Create a P-256 key pair in the learner's folder unless one is there."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    if paths.private_key.is_file() and paths.public_key.is_file():
        return
    paths.root.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(paths.private_key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(private)
    paths.public_key.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def sign_folder(folder: Path, private_key: Path, signature: Path) -> None:
    """Sign every file of `folder` with the private key; the bundle goes to `signature`."""
    import model_signing

    model_signing.signing.Config().use_elliptic_key_signer(private_key=private_key).sign(folder, signature)


@dataclass(frozen=True)
class Verification:
    """The verdict of a verification and, when it fails, why (model-signing's own message, shortened)."""

    ok: bool
    reason: str = ""


def verify_folder(folder: Path, public_key: Path, signature: Path) -> Verification:
    """Check that `folder` is exactly what was signed, with the key pair of `public_key`."""
    import model_signing

    if not folder.is_dir() or not signature.is_file() or not public_key.is_file():
        return Verification(
            False, "missing: " + ", ".join(p.name for p in (folder, signature, public_key) if not p.exists())
        )
    try:
        model_signing.verifying.Config().use_elliptic_key_verifier(public_key=public_key).verify(folder, signature)
    except Exception as exc:  # model-signing raises ValueError (mismatch) or crypto errors (wrong key, bad file)
        mismatched = re.findall(r"Hash mismatch for '[^']+'", str(exc))  # the digests themselves are noise
        return Verification(False, "; ".join(mismatched) or f"{type(exc).__name__}: {str(exc)[:300]}")
    return Verification(True)


@dataclass(frozen=True)
class SigningResult:
    """What signing the learner's model did: the files signed, the honest verification, the tampered one."""

    files: list[str]
    verified: Verification
    tampered_file: str
    tampered: Verification


def tamper_copy(folder: Path, dest: Path) -> str:
    """Copy `folder` to `dest` and change one byte of its largest file; returns that file's relative name."""
    shutil.copytree(folder, dest)
    target = max((p for p in dest.rglob("*") if p.is_file()), key=lambda p: p.stat().st_size)
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))
    return target.relative_to(dest).as_posix()


def sign_model(subject: Subject, settings: Settings, learner: str) -> SigningResult:
    """Export the subject's model to the learner's folder, sign it, verify it, and verify a tampered copy.

    Raises:
        ResponsibleError: the export failed (the registry is unreachable, a type is not trusted...).
    """
    paths = signing_paths(settings, learner)
    try:
        export_model(subject, settings, paths.model)
    except Exception as exc:  # shown to the learner with the reason; nothing half-signed is left as valid
        paths.signature.unlink(missing_ok=True)
        raise ResponsibleError("err_export", error=f"{type(exc).__name__}: {str(exc)[:200]}") from None
    ensure_key_pair(paths)
    sign_folder(paths.model, paths.private_key, paths.signature)
    verified = verify_folder(paths.model, paths.public_key, paths.signature)
    with tempfile.TemporaryDirectory(prefix="workbench-tamper-") as tmp:
        copy = Path(tmp) / "model"
        changed = tamper_copy(paths.model, copy)
        tampered = verify_folder(copy, paths.public_key, paths.signature)
    files = sorted(p.relative_to(paths.model).as_posix() for p in paths.model.rglob("*") if p.is_file())
    return SigningResult(files=files, verified=verified, tampered_file=changed, tampered=tampered)

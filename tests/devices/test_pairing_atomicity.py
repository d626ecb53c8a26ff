"""The exchange is atomic: one code, one device, one token, even under races;
a failure after the token is issued leaves no usable token and no device."""

import threading

import pytest
from django.db import DatabaseError, connection

from devices import services
from devices.errors import DeviceTokenInvalid, PairingCodeInvalid, SerialAlreadyPaired
from devices.models import Device, DeviceToken, PairingCode


@pytest.mark.django_db
def test_it_fails_and_leaves_nothing_when_the_code_cannot_be_marked_used(
    alice, issue_code, pair, monkeypatch
):
    issued = issue_code(alice)
    issued_tokens = []
    real_issue = services._device_token_issue

    def issue_and_remember(**kwargs):
        device_token, token = real_issue(**kwargs)
        issued_tokens.append(token)
        return device_token, token

    def concurrent_winner(*, pairing_code, device, now):
        # Another exchange marked the code used between our read and our update.
        PairingCode.objects.filter(pk=pairing_code.pk).update(used_at=now)
        return real_mark(pairing_code=pairing_code, device=device, now=now)

    real_mark = services._pairing_code_mark_used
    monkeypatch.setattr(services, "_device_token_issue", issue_and_remember)
    monkeypatch.setattr(services, "_pairing_code_mark_used", concurrent_winner)

    with pytest.raises(PairingCodeInvalid):
        pair(issued.code)

    assert issued_tokens, "the token must have been issued before the failure"
    assert not Device.objects.exists()
    # Rolled back, not merely revoked: the token never outlives the failed exchange.
    assert not DeviceToken.objects.exists()
    with pytest.raises(DeviceTokenInvalid):
        services.device_token_authenticate(token=issued_tokens[0])


@pytest.mark.django_db
def test_a_database_error_while_marking_used_also_leaves_nothing(
    alice, issue_code, pair, monkeypatch
):
    issued = issue_code(alice)

    def broken(**kwargs):
        raise DatabaseError("forced")

    monkeypatch.setattr(services, "_pairing_code_mark_used", broken)
    with pytest.raises(DatabaseError):
        pair(issued.code)
    assert not Device.objects.exists()
    assert not DeviceToken.objects.exists()
    assert PairingCode.objects.get().used_at is None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_many_threads_using_one_code_get_exactly_one_device(alice, issue_code, settings):
    code = issue_code(alice).code
    workers = 12
    # Eleven losers are eleven failures at one code prefix: keep the rate limit out of it.
    settings.DEVICE_PAIRING_RATE_LIMIT = workers
    barrier = threading.Barrier(workers)
    outcomes: list[str] = []
    lock = threading.Lock()

    def use_code(index: int) -> None:
        try:
            barrier.wait()
            services.device_pair(
                code=code, serial=f"RACE-{index}", chip="KL520", client_address=f"10.0.0.{index}"
            )
            outcome = "paired"
        except PairingCodeInvalid:
            outcome = "refused"
        except Exception as exc:  # anything else is a bug the assert below shows
            outcome = repr(exc)
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=use_code, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes) == ["paired"] + ["refused"] * (workers - 1)
    assert Device.objects.count() == 1
    assert DeviceToken.objects.count() == 1
    assert DeviceToken.objects.usable().count() == 1
    assert PairingCode.objects.get().device == Device.objects.get()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_codes_for_one_serial_pair_it_once(alice, bob, issue_code):
    codes = [issue_code(alice).code, issue_code(bob).code, issue_code(alice).code]
    barrier = threading.Barrier(len(codes))
    outcomes: list[str] = []
    lock = threading.Lock()

    def use_code(code: str) -> None:
        try:
            barrier.wait()
            services.device_pair(code=code, serial="SAME-1", chip="KL520", client_address="x")
            outcome = "paired"
        except SerialAlreadyPaired:
            outcome = "conflict"
        except Exception as exc:
            outcome = repr(exc)
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=use_code, args=(code,)) for code in codes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes) == ["conflict", "conflict", "paired"]
    assert Device.objects.count() == 1
    assert DeviceToken.objects.count() == 1
